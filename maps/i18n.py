"""Words on the pages, in Chinese (the default) and English.

Pages render in one language and carry both tables, so the toggle in the top bar switches without
a reload; ``data-i18n="key"`` marks an element whose text the scripts replace.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"
LANG_COOKIE = "gridhouse_lang"

MESSAGES: dict[str, tuple[str, str]] = {
    "app": ("网格化房屋管理", "gridhouse"),
    "map": ("地图", "Map"),
    "planner": ("网格规划", "Planner"),
    "dashboard": ("统计看板", "Dashboard"),
    "logout": ("退出", "Log out"),
    "lang_toggle": ("English", "中文"),
    # login
    "login_title": ("登录", "Log in"),
    "user_name": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "totp": ("动态码（如已启用）", "One-time code (if enabled)"),
    "login_button": ("登录", "Log in"),
    "login_failed": (
        "用户名、密码或动态码错误，或账户已锁定",
        "Wrong name, password or code, or the account is locked",
    ),
    "forbidden_page": ("您的角色不能使用此页面。", "Your role may not use this page."),
    "page_refused": ("此页面的地址有误：", "This page's address is not right:"),
    # map
    "search_placeholder": ("房屋编码 / 姓名 / 身份证号", "House code / name / ID number"),
    "search_placeholder_code": ("房屋编码", "House code"),
    "search": ("搜索", "Search"),
    "not_found": ("未找到", "Not found"),
    "bad_check_char": (
        "编码的校验位不对（应为 {c}）",
        "The code's check character is wrong ({c} expected)",
    ),
    "locate_me": ("我的位置", "Locate me"),
    "location_failed": ("无法获取位置", "Location unavailable"),
    "legend": ("网格类别", "Grid class"),
    "reinforced": ("加强型", "Reinforced"),
    "key": ("重点型", "Key"),
    "regular": ("常规型", "Regular"),
    "unclassified": ("未分类", "Unclassified"),
    "own_grid": ("本人网格", "My grids"),
    "layer_data": ("网格与楼栋", "Grids and buildings"),
    "layer_floating": ("流动人口热力（H3）", "Floating residents (H3)"),
    "layer_offline": ("离线底图（道路）", "Offline base (roads)"),
    "layer_osm": ("OpenStreetMap", "OpenStreetMap"),
    "layer_tianditu": ("天地图", "Tianditu"),
    "building": ("楼栋", "Building"),
    "code": ("编码", "Code"),
    "use": ("用途", "Use"),
    "floors": ("层数", "Floors"),
    "houses": ("房屋", "Houses"),
    "house": ("房屋", "House"),
    "floor": ("楼层", "Floor"),
    "floor_suffix": ("层", "F"),
    "room": ("房号", "Room"),
    "rented": ("出租", "Rented"),
    "occupants": ("现住人员", "Current occupants"),
    "no_occupants": ("无登记人员", "Nobody registered"),
    "filter_houses": ("筛选房号", "Filter rooms"),
    "close": ("关闭", "Close"),
    "loading": ("加载中…", "Loading…"),
    "load_failed": ("加载失败", "Could not load"),
    "purpose": ("查询事由", "Purpose"),
    "purpose_hint": ("案件编号或不少于10字的事由", "A case number or a reason of 10+ characters"),
    "purpose_needed": ("请先填写查询事由，再查看人员", "State a purpose to see occupants"),
    "register": ("登记入住", "Register arrival"),
    "deregister": ("注销", "Deregister"),
    "reveal": ("查看完整", "Reveal"),
    "void": ("登记有误", "Entered in error"),
    "void_reason": (
        "作废这条居住登记（登记错了人、房屋或日期），就像从未登记过；请写明原因：",
        "Void this registration (the wrong person, house or dates), as if never made. Why?",
    ),
    "voided": ("已作废", "Voided"),
    "void_reopen": (
        "此人是从{house}迁来的。如果此人其实并未搬迁，点“确定”恢复{house}的居住登记；"
        "点“取消”则只作废本条。",
        "The person moved here from {house}. If they never moved, OK reopens the residence in "
        "{house}; Cancel only voids this one.",
    ),
    "reopen_previous": ("恢复原住址", "Reopen the earlier residence"),
    "reopened": ("已作废，原住址已恢复", "Voided; the earlier residence is open again"),
    "edit_person": ("信息变更", "Edit"),
    "new_phone": ("新电话", "New phone"),
    "occupation": ("职业", "Occupation"),
    "reason": ("原因", "Reason"),
    "uid": ("记录", "Record"),
    "house_code": ("房屋编码", "House code"),
    "moved_on": ("迁移日期", "Moved on"),
    "title": ("标题", "Title"),
    "note": ("说明", "Note"),
    "q": ("查询内容", "Search"),
    "period": ("居住期间", "Period"),
    "revoked_on": ("注销日期", "Revoked on"),
    "person_uid": ("人员", "Person"),
    "body": ("请求", "Request"),
    "category": ("人员类别", "Category"),
    "hukou_division_code": ("户籍地区划代码", "Hukou division code"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "crs": ("坐标系", "CRS"),
    "is_rented": ("出租", "Let"),
    "mark_let": ("设为出租", "Mark let"),
    "mark_not_let": ("取消出租", "Mark not let"),
    "reveal_reason": (
        "查看完整身份证号和电话的事由（案件编号或不少于10个字的说明），将记入审计日志：",
        "Why do you need the full ID number and phone (a case number or at least 10 characters)? "
        "It is recorded in the audit log:",
    ),
    "name": ("姓名", "Name"),
    "id_number": ("身份证号", "ID number"),
    "phone": ("电话", "Phone"),
    "kind": ("居住类型", "Kind"),
    "moved_in": ("入住日期", "Moved in"),
    "moved_out": ("离开日期", "Moved out"),
    "ends_previous": (
        "从别处迁来（结束其原居住登记）",
        "Moving from elsewhere (ends the earlier residence)",
    ),
    "since_date": ("{date} 起", "since {date}"),
    "save": ("保存", "Save"),
    "cancel": ("取消", "Cancel"),
    "saved": ("已保存", "Saved"),
    "owner": ("业主", "Owner"),
    "family": ("家属", "Family"),
    "tenant": ("租户", "Tenant"),
    "dormitory": ("宿舍", "Dormitory"),
    "temporary": ("临时", "Temporary"),
    "hukou": ("户籍", "Hukou"),
    "floating": ("流动", "Floating"),
    "overseas": ("境外", "Overseas"),
    "residential": ("住宅", "Residential"),
    "commercial": ("商业", "Commercial"),
    "mixed": ("商住", "Mixed"),
    "dorm": ("宿舍", "Dorm"),
    "office": ("办公", "Office"),
    "other": ("其他", "Other"),
    "zoom_in_for_buildings": ("放大以查看楼栋", "Zoom in to see buildings"),
    # planner
    "plan": ("规划方案", "Plan"),
    "plans": ("方案", "Plans"),
    "new_plan": ("新建方案", "New plan"),
    "plan_name": ("方案名称", "Plan name"),
    "division": ("区划代码", "Division code"),
    "create": ("创建", "Create"),
    "open": ("打开", "Open"),
    "impact": ("影响评估", "Impact"),
    "grid": ("网格", "Grid"),
    "households": ("户数", "Households"),
    "residents": ("人口", "Residents"),
    "floating_share": ("流动人口占比", "Floating share"),
    "deviation": ("偏离目标", "Deviation"),
    "compactness": ("紧凑度", "Compactness"),
    "predicted_class": ("预测类别", "Predicted class"),
    "officers_needed": ("所需网格员", "Officers needed"),
    "problems": ("拓扑问题", "Problems"),
    "no_problems": ("无拓扑问题", "No problems"),
    "severity_error": ("错误", "error"),
    "severity_warning": ("警告", "warning"),
    "changes": ("与现状对比", "Against today"),
    "publish": ("发布", "Publish"),
    "effective_date": ("生效日期", "Effective date"),
    "published": ("已发布", "Published"),
    "plan_draft": ("草案", "draft"),
    "plan_published": ("已发布", "published"),
    "plan_discarded": ("已废弃", "discarded"),
    "edit_hint": (
        "拖动网格顶点编辑边界，每次编辑后自动评估",
        "Drag grid vertices to edit; the impact updates after each edit",
    ),
    "plans_unavailable": ("规划接口尚未提供", "The plans API is not available yet"),
    # dashboard
    "overview": ("总览", "Overview"),
    "grids": ("网格", "Grids"),
    "rentals": ("出租房屋", "Rented houses"),
    "class_mix": ("网格类别构成", "Class mix"),
    "quality": ("数据质量（四率）", "Data quality"),
    "threshold": ("目标", "Target"),
    "overdue": ("逾期事项", "Overdue work"),
    "registration_rate": ("登记率", "Registration"),
    "accuracy_rate": ("准确率", "Accuracy"),
    "undergistered_rate": ("逾期未注销率", "Not deregistered"),
    "permit_rate": ("居住证办理率", "Residence permits"),
    "late_declarations": ("逾期未申报", "Late declarations"),
    "late_departures": ("逾期未注销", "Late departures"),
    "suppressed": ("<5", "<5"),
    "not_available": ("暂无数据", "No data yet"),
    "per_grid": ("各网格", "Per grid"),
    "all": ("全部", "All"),
    "truncated": (
        "合计、网格类别和事件含全部网格；表格每次列 100 个网格，质量四率和逾期事项只含所列网格。",
        "Totals, classes and events cover every grid; the table lists 100 grids at a time, and "
        "the quality rates and overdue work cover the grids listed.",
    ),
    "next_grids": ("后 100 个网格 →", "Next 100 grids →"),
    "first_grids": ("← 回到开头", "← Back to the first"),
    # events (issue 9)
    "open_events": ("未结事件", "Open events"),
    "overdue_events": ("超期事件", "Overdue events"),
    "events": ("事件", "Events"),
    "event": ("事件", "Event"),
    "report_event": ("上报事件", "Report an event"),
    "event_title": ("事件标题", "Title"),
    "event_kind": ("事件类型", "Kind"),
    "event_note": ("说明", "Note"),
    "event_due": ("办结时限", "Due"),
    "event_overdue": ("已超期", "Overdue"),
    "event_steps": ("处置过程", "Steps"),
    "status": ("状态", "Status"),
    "assignee": ("处置人", "Assignee"),
    "department": ("处置部门", "Department"),
    "safety_hazard": ("安全隐患", "Safety hazard"),
    "rented_fire_risk": ("出租屋消防隐患", "Fire risk in a rented house"),
    "dispute": ("矛盾纠纷", "Dispute"),
    "public_order": ("治安问题", "Public order"),
    "reported": ("已上报", "Reported"),
    "accepted": ("已受理", "Accepted"),
    "rejected": ("不予受理", "Rejected"),
    "dispatched": ("已派遣", "Dispatched"),
    "handled": ("已处置", "Handled"),
    "checked": ("已核查", "Checked"),
    "closed": ("已结案", "Closed"),
    "step_accepted": ("受理", "Accept"),
    "step_rejected": ("不予受理", "Reject"),
    "step_dispatched": ("派遣", "Dispatch"),
    "step_handled": ("处置完毕", "Mark handled"),
    "step_checked": ("核查通过", "Check on site"),
    "step_closed": ("结案", "Close"),
    "event_photos": ("现场照片", "Photos"),
    "photo": ("照片", "Photo"),
    "no_photos": ("暂无照片", "No photos yet"),
    "add_photo": ("添加照片（JPEG、PNG、WebP）", "Add a photo (JPEG, PNG, WebP)"),
    "photo_optional": ("现场照片（可选）", "Photo (optional)"),
    "photo_saved": ("照片已上传", "Photo attached"),
    "uploading": ("正在上传…", "Uploading…"),
    "photo_type": (
        "photo: 只能上传 JPEG、PNG 或 WebP 图片",
        "photo: only JPEG, PNG or WebP images can be attached",
    ),
    "photo_too_large": (
        "photo: 照片有 {size} 字节且无法压缩，最多 {max} 字节",
        "photo: the photo has {size} bytes and cannot be made smaller; at most {max} bytes",
    ),
    "open_by_kind": ("未结事件（按类型）", "Open events by kind"),
    "closure_rate": ("结案率", "Closure rate"),
    "closure_rates": ("各网格结案率", "Closure rate per grid"),
}
"""key → (中文, English)."""


def parse_lang(value: str | None) -> Lang:
    """``en`` or ``zh`` (anything else: the default, Chinese)."""
    return "en" if value == "en" else DEFAULT_LANG


def text(key: str, lang: Lang) -> str:
    """One message in ``lang``.

    >>> text("publish", "zh"), text("publish", "en")
    ('发布', 'Publish')
    """
    zh, en = MESSAGES[key]
    return en if lang == "en" else zh


def table(lang: Lang) -> dict[str, str]:
    """Every message in ``lang``, for the scripts."""
    return {key: text(key, lang) for key in MESSAGES}
