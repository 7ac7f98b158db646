"""The Chinese of the grid plans' messages (``gis.grids``, ``gis.geometry``), shown on the
planner page: topology problems with GEOS's reasons, refused edits and publishing. Part of the
table of :mod:`maps.messages_zh` (in its place there: entries are tried in order), with the
same rules.
"""

from __future__ import annotations

PLAN_ERRORS_ZH: tuple[tuple[str, str], ...] = (
    # the impact's notes (gis.grids.impact.notes_of), under the planner's impact table
    (
        r"draft grids count no open events \(events belong to the live grids\): predicted "
        r"classes rank their event rate as 0",
        "草案中的网格不计未结事件（事件属于现行网格）：预测类别按事件率为0计",
    ),
    (
        r"no residences are registered yet: households are estimated from dwellings",
        "尚无居住登记：户数按住房估算",
    ),
    (
        r"sliver \((\w+)\): (.+), ([\d,.]+) m² \(below the ([\d.]+) m² tolerance\)",
        "碎片（{1:p}）：{2:p}，{3}平方米（小于{4}平方米的容差）",
    ),
    # a located problem with its size: "<problem>, 1,234.5 m²"
    (r"(.+), ([\d,.]+) m²", "{1:p}，{2}平方米"),
    (r"grid (\S+) is not a polygon", "网格{1}不是多边形"),
    (r"invalid polygon: (.+)", "多边形无效：{1:p}"),
    (r"the effective date cannot be in the past", "生效日期不能是过去的日期"),
    (
        r"the line does not cut the grid in two: draw it across the grid from edge to edge",
        "这条线没有把网格分成两块：请从网格的一边画到另一边",
    ),
    (r"the target band needs 0 < min < max ≤ ([\d,]+)", "目标户数区间须满足 0 < 下限 < 上限 ≤ {1}"),
    (r"grid (\S+) is not a valid polygon \((.+)\)", "网格{1}不是有效的多边形（{2:p}）"),
    (  # GEOS's reasons (shapely.is_valid_reason), with the spot
        r"(Ring Self-intersection|Self-intersection|Too few points in geometry component|"
        r"Interior is disconnected|Hole lies outside shell|Nested shells|Nested holes|"
        r"Invalid Coordinate|Ring is not closed|Duplicate Rings)\[(.+)\]",
        "{1:p}，位置{2}",
    ),
    (
        r"grid (\S+) has (\d+) separate parts \(a grid is one contiguous polygon\)",
        "网格{1}分成{2}块（网格须为一个连续的多边形）",
    ),
    (
        r"grid (\S+): community (\w+) has no boundary to check against",
        "网格{1}：社区{2}没有边界可供检查",
    ),
    (r"community (\w+) has no grid", "社区{1}没有网格"),
    (r"a gap inside community (\w+) covered by no grid", "社区{1}内有未被任何网格覆盖的空隙"),
    (r"grid (\S+) reaches outside community (\w+) into (.+)", "网格{1}超出社区{2}，伸入{3}"),
    (r"grid (\S+) reaches outside community (\w+)", "网格{1}超出社区{2}"),
    (r"grids (\S+) and (\S+) overlap by ([\d,.]+) m²", "网格{1}与{2}重叠{3}平方米"),
    (r"building (\S+) lies in no grid", "楼栋{1}不在任何网格内"),
    (r"building (\S+) lies in (\d+) grids \((.+)\)", "楼栋{1}同时位于{2}个网格（{3}）"),
    (
        r"([\d,]+) buildings? of community (\w+) lie in no grid: it has none",
        "社区{2}的{1}栋楼不在任何网格内：该社区没有网格",
    ),
    (r"plan (\d+) is (\w+): only a draft can change", "方案{1}为{2:p}：只有草案可以修改"),
    # a plan's edits refused at the door (gis.grids.plan_edits, gis.geometry) and its publishing
    (r"the grid lies in no community", "该网格不在任何社区内"),
    (
        r"a grid is one polygon \(a MultiPolygon of one part\)",
        "网格须为一个多边形（多部分的图形只能有一个部分）",
    ),
    (r"more than ([\d,]+) vertices", "顶点超过{1}个"),
    (r"a LineString is needed", "须为一条线"),
    (
        r"coordinates must be lon/lat within ±180/±90",
        "坐标须为经纬度：经度在±180以内，纬度在±90以内",
    ),
    (
        r"coordinates are lon/lat in EPSG:4326 \(RFC 7946\); a crs member naming (.*) is not read",
        "坐标须为EPSG:4326的经纬度（RFC 7946）；不读取声明为{1}的坐标系",
    ),
    (r"not a GeoJSON geometry: (.+)", "不是GeoJSON几何图形：{1}"),
    (r"unreadable or missing geometry", "图形无法读取或缺失"),
    (r"empty geometry", "图形为空"),
    (r"not a polygon \((\w+)\)", "不是多边形（是{1:p}）"),
    (r"coordinates are NaN or infinite", "坐标为NaN或无穷大"),
    (
        r"latitude beyond ±90° \(are longitude and latitude swapped\?\)",
        "纬度超出±90°（经度和纬度是否写反了？）",
    ),
    (r"longitude beyond ±180°", "经度超出±180°"),
    (
        r"the grids do not touch: a merged grid must be one polygon",
        "这些网格互不相接：合并后的网格须为一个多边形",
    ),
    (
        r"a plan covers a county \(district\), a township or a community",
        "方案只能覆盖一个区（县）、街道（镇）或社区",
    ),
    (
        r"plan (\d+) breaks (\d+) hard rule\(s\), the first: (.+) at (\S+)",
        "方案{1}违反{2}条硬性规则，第一条：{3:p}，位置{4}",
    ),
    (
        r"the live grids changed since plan (\d+) was drafted \((\S+)\): draft a new plan",
        "方案{1}起草后现行网格已有变化（{2}）：请新建方案",
    ),
    (
        r"grid (\S+) has a version from (\S+): the effective date must be after it",
        "网格{1}已有{2}起的版本：生效日期须晚于此日",
    ),
    (r"(\S+) is outside (\S+)…(\S+)", "{1}超出{2}至{3}的范围"),
    (r"the plan has no grid (\S+)", "方案中没有网格{1}"),
    (r"no plan has this id", "没有此方案"),
    (
        r"(\d+) is a (province|city|county|township), not a community: a grid belongs to a "
        r"community \(village level\)",
        "{1}是{2:p}，不是社区：网格须属于一个社区（村级）",
    ),
    (r"community (\d+) is not in the plan's division (\d+)", "社区{1}不在方案的行政区划{2}内"),
    (r"no division has this code", "没有此行政区划代码"),
    (r"a merge needs at least two different grids", "合并至少需要两个不同的网格"),
    (r"grids of different communities cannot be merged", "不同社区的网格不能合并"),
)

PLAN_PHRASES: dict[str, str] = {
    # GEOS's reasons (shapely.is_valid_reason)
    "Ring Self-intersection": "环自相交",
    "Self-intersection": "自相交",
    "Too few points in geometry component": "点数太少",
    "Interior is disconnected": "内部不连通",
    "Hole lies outside shell": "洞在外环之外",
    "Nested shells": "外环嵌套",
    "Nested holes": "洞嵌套",
    "Invalid Coordinate": "坐标无效",
    "Ring is not closed": "环未闭合",
    "Duplicate Rings": "重复的环",
    # GEOS's geometry types (not a polygon (Point))
    "Point": "点",
    "MultiPoint": "多点",
    "LineString": "线",
    "MultiLineString": "多线",
    "GeometryCollection": "几何集合",
    # grid problems and plans (gis.grids)
    "gap": "空隙",
    "overlap": "重叠",
    "outside_community": "超出社区",
    "draft": "草案",
    "published": "已发布",
    "discarded": "已废弃",
    # division levels (a grid's community_code naming another level)
    "province": "省",
    "city": "市",
    "county": "区（县）",
    "township": "街道（镇）",
}
