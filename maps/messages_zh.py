"""The Chinese of the server's error messages: the table :mod:`maps.error_text` reads.

Each entry of :data:`ERRORS_ZH` is a pattern that must match a whole English message and a
Chinese template (``{1}`` a group as it is, ``{1:p}`` a group through :data:`PHRASES`). The
patterns use only the part of regular-expression syntax that Python and JavaScript read alike:
the pages run the same table (``Gridhouse.errorText``, ``maps/static/common.js``).
"""

from __future__ import annotations

from maps.messages_zh_plans import PLAN_ERRORS_ZH, PLAN_PHRASES

ERRORS_ZH: tuple[tuple[str, str], ...] = (
    # citizen ID numbers, passports, phones, credit codes (gis.people.identity)
    (r"a citizen ID number has 18 characters, got (\d+)", "公民身份号码应为18位，实为{1}位"),
    (r"the first 17 characters must be digits", "前17位必须是数字"),
    (r"the check character \(the 18th\) must be a digit or X", "第18位校验码必须是数字或X"),
    (
        r"the check character does not match: expected '(.)', got '(.)' \(ISO 7064 MOD 11-2\); "
        r"the number is mistyped",
        "校验码不符：应为{1}，实为{2}，号码有误",
    ),
    (
        r"the check character does not match: expected '(.)', got '(.)'",
        "校验码不符：应为{1}，实为{2}",
    ),
    (
        r"the birth date (\S+) is not a date: there is no month (\d+)",
        "出生日期{1}不存在：没有{2}月",
    ),
    (
        r"the birth date (\S+) is not a date: month (\d+) of (\d+) has no day (\d+)",
        "出生日期{1}不存在：{3}年{2}月没有{4}日",
    ),
    (r"the birth date (\S+) is in the future", "出生日期{1}在未来"),
    (r"the birth date (\S+) is before (\d+)", "出生日期{1}早于{2}年"),
    (
        r"the region code (\d+) \(characters 1-6\) is not a known county",
        "地区码{1}（前6位）不是已知的县级行政区",
    ),
    (
        r"the region code (\d+) was not in use in the birth year (\d+)",
        "地区码{1}在出生年份{2}年尚未使用",
    ),
    (r"a passport number has 5-20 letters and digits", "护照号码应为5-20位字母和数字"),
    (
        r"a phone is a mobile number of 11 digits starting 13-19, or 0 \+ area code \+ number",
        "电话应为13-19开头的11位手机号，或0+区号+号码的固定电话",
    ),
    (r"a credit code has 18 characters, got (\d+)", "统一社会信用代码应为18位，实为{1}位"),
    (r"NUL bytes are not allowed", "不能包含NUL字符"),
    (r"this ID number is registered under another name", "该身份证号已登记在其他姓名下"),
    (r"overseas residents need sex and birth_date", "境外人员需填写性别和出生日期"),
    (r"give at least one of .+", "请至少修改一项"),
    (r"an overseas resident has no hukou", "境外人员没有户籍"),
    (
        r"residence permit (\d+), issued at this house, is valid: if it rested on this "
        r"registration, revoke it first",
        "在此房屋签发的居住证{1}仍有效：如它依据的正是这条登记，请先注销居住证",
    ),
    (
        r"(\d+) is not a known division: neither a county of China nor a division loaded here",
        "{1}不是已知的行政区划：既不是全国的县级区划，也不是本系统载入的区划",
    ),
    (
        r"(\d+) is not a known division: no township or village \d+ is loaded here \(the county "
        r"alone: (\d+)\)",
        "{1}不是已知的行政区划：本系统未载入此乡镇或村（只填县级区划则为{2}）",
    ),
    (r"no division (\d+) in your jurisdiction", "您的辖区内没有行政区划{1}"),
    (r"no (grid|division) (\d+) in your scope", "您的范围内没有{1:p}{2}"),
    (r"no grid (\d+) on (\S+) in your scope", "您的范围内{2}没有网格{1}"),
    (r"no person ([\w-]+) living in your scope on (\S+)", "{2}您的范围内没有此人（{1}）"),
    (r"no division (\d+)", "没有行政区划{1}"),
    (r"no grid (\d+)", "没有网格{1}"),
    (
        r"wrong check character '(.)' \(expected '(.)'\): the code is mistyped",
        "校验位{1}不对（应为{2}）：编码输错了",
    ),
    (r"a house code has (\d+) characters, got (\d+)", "房屋编码应为{1}位，实为{2}位"),
    (r"position (\d+) must be a digit 0-9", "第{1}位必须是数字0-9"),
    (
        r"grouped as ([\d-]+) characters; a grouped code is 12-1-6-5-1 \(community, structure "
        r"class, building, unit, check\)",
        "分段为{1}位；分段书写的编码应为12-1-6-5-1位（社区、结构类别、楼栋、单元、校验位）",
    ),
    (r"may not be cleared", "不能清空"),
    (
        r"room may not contain control characters or direction overrides",
        "房间号不能包含控制字符或文字方向控制符",
    ),
    (
        r"an overseas resident \(passport\) and a citizen \(ID number\) are different "
        r"registrations: void and register again",
        "境外人员（护照）与公民（身份证）是不同的登记：请作废后重新登记",
    ),
    # a house added to a building or changed (gis.houses.editing, gis.buildings.service)
    (
        r"floor (-?\d+) room (.+) of this building is already house (\S+)",
        "本楼{1}层的{2}室已是房屋{3}",
    ),
    (r"room (.+) of this building is already house (\S+)", "本楼的{1}室已是房屋{2}"),
    (r"building (\S+) is retired", "楼栋{1}已停用"),
    (
        r"building (\S+) has no unit number left \((\d+) is the last\)",
        "楼栋{1}已没有可用的单元号（最大为{2}）",
    ),
    (r"no building has the code (\w+)", "没有编码为{1}的楼栋"),
    (r"(\w+) is a house code, not a building code", "{1}是房屋编码，不是楼栋编码"),
    (
        r"this is a building's code \(unit 00000\): put it under building_code",
        "这是楼栋编码（单元为00000）：请填入楼栋编码",
    ),
    (r"must be a finite number", "须为有限的数"),
    # residences (gis.people.service, gis.people.periods)
    (r"no live house has the code (\w+)", "没有编码为{1}的在用房屋"),
    (r"no person ([\w-]+)", "没有此人（{1}）"),
    (r"no residence ([\w-]+)", "没有此居住登记（{1}）"),
    (r"residence ([\w-]+) was voided on (\S+) by (\S+): (.*)", "该居住登记已于{2}由{3}作废：{4}"),
    (r"already deregistered on (\S+)", "已于{1}注销"),
    (r"the person already lives in this house", "此人已住在这间房屋"),
    (
        r"the person moved in on (\S+): void that residence if it was a mistake",
        "此人于{1}入住：如那条居住登记有误，请作废它",
    ),
    (
        r"recorded on (\S+), more than (\d+) days ago: an administrator may void it; "
        r"a departure is deregistered",
        "登记于{1}，已超过{2}天：请管理员作废；人已离开的请办理注销",
    ),
    # a void that reopens the residence a mistaken move ended (gis.people.corrections)
    (
        r"not a primary residence: it ended no other, there is nothing to reopen",
        "不是主要居住登记：它没有结束其他登记，无可恢复",
    ),
    (
        r"this residence ends on (\S+): where the person lived after that is not known; void it "
        r"without reopen_previous and register what happened",
        "此登记于{1}结束，之后的居住情况不明：请不勾选恢复原住址作废，再如实登记",
    ),
    (
        r"no primary residence of the person ended on (\S+), the day this one began",
        "此人没有在{1}（本登记的入住日）结束的主要居住登记",
    ),
    (
        r"the residence that ended on (\S+) is outside your grids: an administrator reopens it",
        "{1}结束的那条居住登记不在您的网格内：请管理员恢复",
    ),
    (
        r"the primary residence that ended on (\S+) was deregistered as a departure, not ended by "
        r"this registration: it stays ended; void without reopen_previous",
        "{1}结束的主要居住登记是注销离开，并非本次登记所结束：不能恢复；请不勾选恢复原住址作废",
    ),
    (r"no declaration is due: not a tenant of a rented house", "无需申报：不是出租房屋的租客"),
    (r"the declaration was already made", "已经申报过"),
    (r"give either person_uid or person", "请给出已有人员或新人员之一"),
    # "an arrival in the future (…)", "a move-in (…) before the person's birth (…)": the
    # field's name says which date, the page puts it in front
    (r"[\w -]+ in the future \((\S+)\)", "{1}是未来的日期"),
    (r"[\w -]+ \((\S+)\) before the person's birth \((\S+)\)", "{1}早于此人的出生日期{2}"),
    (r"[\w -]+ before the ([\w' -]+) \((\S+)\)", "早于{1:p}{2}"),
    (r"(\S+) is not after the ([\w -]+) (\S+)", "{1}应晚于{2:p}{3}"),
    (
        r"(the person's primary residence \[[^)]*\)|a primary residence of the person outside "
        r"your scope) overlaps the new one (\[[^)]*\)): (.+)",
        "{1:p}与新登记{2:p}重叠：{3:p}",
    ),
    (
        r"(the person's primary residence \[[^)]*\)|a primary residence of the person outside "
        r"your scope) overlaps (\[[^)]*\))",
        "{1:p}与{2:p}重叠",
    ),
    (
        r"ending on (\S+) would overlap another primary residence of the person",
        "于{1}结束会与此人的另一处主要居住登记重叠",
    ),
    (
        r"another primary residence of the person overlaps (\[[^)]*\))",
        "此人的另一处主要居住登记与{1:p}重叠",
    ),
    # purposes and reveals (gis.access.purpose)
    (
        r"police must state a purpose: .+",
        "民警查询须说明事由：案件编号（6-40位字母数字，至少4位数字）或不少于10个字的说明",
    ),
    (
        r"a reason is required: .+",
        "须说明事由：案件编号（6-40位字母数字，至少4位数字）或不少于10个字的说明",
    ),
    (
        r"(\d+) characters and no case number is too short: give .+",
        "{1}个字且不是案件编号，太短：请给出案件编号或不少于10个字的说明",
    ),
    (
        r"give a case number .+",
        "请给出案件编号（6-40位字母数字，至少4位数字）或不少于10个字的说明（最多500字）",
    ),
    # events and photos (gis.events)
    (
        r"not a JPEG, PNG or WebP image \(its first bytes say otherwise\)",
        "不是JPEG、PNG或WebP图片（文件开头的字节不符）",
    ),
    (r"the JPEG image is truncated \(no end marker\)", "JPEG图片不完整（缺少结束标记）"),
    (r"the PNG image is truncated \(no IEND chunk\)", "PNG图片不完整（缺少IEND块）"),
    (r"the WebP image is truncated \(its size disagrees\)", "WebP图片不完整（大小不符）"),
    (r"the photo is empty or too small to be an image", "照片为空或太小，不是图片"),
    (
        r"the photo has ([\d,]+) bytes; at most ([\d,]+) are accepted",
        "照片有{1}字节，最多接受{2}字节",
    ),
    (r"an event holds at most (\d+) photos", "一个事件最多{1}张照片"),
    (r"event (\d+) is (\w+): photos can no longer be added", "事件{1}为{2:p}，不能再添加照片"),
    (
        r"say why or what was done: a (\w+) step needs a note",
        "请说明原因或处理情况：转为{1:p}需要填写说明",
    ),
    (r"the place is not in one of your grids", "该位置不在您的网格内"),
    (r"the place lies in no grid \(check -*crs\)", "该位置不在任何网格内（请检查坐标系）"),
    (r"the place lies in no grid", "该位置不在任何网格内"),
    (
        r"dispatch to an officer \(assignee\) or to a department, one of the two",
        "请派给一名网格员（承办人）或一个部门，二者选一",
    ),
    (r"only a dispatch step names an assignee or department", "只有派遣步骤才指定承办人或部门"),
    (r"'(.*)' is not an enabled officer or admin account", "“{1}”不是启用的网格员或管理员账号"),
    (
        r"officer '(.*)' has not grid (\d+): dispatch to an officer of the grid",
        "网格员“{1}”不负责网格{2}：请派给该网格的网格员",
    ),
    (
        r"officer '(.*)' could never see an event in no grid: dispatch to an admin or a "
        r"department",
        "网格员“{1}”看不到不在任何网格内的事件：请派给管理员或部门",
    ),
    (
        r"event (\d+) is (\w+) and cannot be (\w+): only an? (.+?) event can be \w+ "
        r"\(next steps from \w+: (.+)\)",
        "事件{1}当前为{2:p}，不能转为{3:p}：只有{4:p}的事件才能转为{3:p}（现在可转为：{5:p}）",
    ),
    (
        r"event (\d+) is (\w+) and cannot be (\w+): an event is reported once, when it is "
        r"created \(next steps from \w+: (.+)\)",
        "事件{1}当前为{2:p}，不能转为{3:p}：事件只在创建时上报一次（现在可转为：{4:p}）",
    ),
    # the people search (gis.search)
    (
        r"give a citizen ID number or at least (\d+) characters of a name",
        "请输入公民身份号码，或姓名的至少{1}个字",
    ),
    (
        r"an ID number has 18 characters \(17 digits and a check character\), got (\d+) "
        r"characters; a name has no digits",
        "身份证号应为18位（17位数字加校验码），实为{1}位；姓名不含数字",
    ),
    (
        r"a 15-digit ID number \(first generation\) is not stored: give the 18-digit number",
        "系统不存15位（第一代）身份证号：请输入18位号码",
    ),
    (r"no event (\d+)", "没有事件{1}"),
    # grid plans: topology and edits (gis.grids), shown on the planner page
    *PLAN_ERRORS_ZH,
    # access, limits, the database (gis.access, api)
    (r"the (\w+) role may not do this", "{1:p}角色无权执行此操作"),
    (r"not logged in, or the session has expired", "未登录或会话已过期"),
    (r"too many requests; slow down", "请求过于频繁，请稍后再试"),
    (
        r"the database did not answer in time; narrow the request",
        "数据库未及时响应，请缩小查询范围",
    ),
    (
        r"a concurrent change got in the way; nothing was stored, send the request again",
        "有并发修改冲突，未保存任何内容，请重新提交",
    ),
    # another request stored the same thing first (gis.db.race_conflict)
    (
        r"a user of this name was added at the same moment; nothing of this one was stored: "
        r"look again, then retry",
        "同名用户刚刚被他人添加，本次未保存，请查看后重试",
    ),
    (
        r"an organization with this credit code was registered at the same moment; nothing of "
        r"this one was stored: look again, then retry",
        "该统一社会信用代码的单位刚刚被他人登记，本次未保存，请查看后重试",
    ),
    (
        r"a primary residence of the person overlapping this one was registered at the same "
        r"moment; nothing of this one was stored: look again, then retry",
        "此人与本次重叠的主要居住登记刚刚被他人提交，本次未保存，请查看后重试",
    ),
    (
        r"another change stored the same record first \((\S+)\); nothing of this one was "
        r"stored: look again, then retry",
        "他人刚刚保存了同一记录，本次未保存，请查看后重试",
    ),
    (r"the database is unavailable", "数据库不可用"),
    (r"every database connection is busy; try again shortly", "数据库连接繁忙，请稍后再试"),
    (r"a value is out of range or malformed", "有数值超出范围或格式错误"),
    (r"is blank \(white space only\)", "不能为空（只有空白）"),
    (r"should say why in at least 2 characters", "请至少用2个字说明原因"),
    (
        r"may not contain control characters \(line breaks, tabs, escapes, direction overrides\)",
        "不能包含控制字符（换行、制表符、文字方向控制符等）",
    ),
    # FastAPI's own (pydantic) messages for a request's shape
    (r"Field required", "必填"),
    (r"Extra inputs are not permitted", "不接受此字段"),
    (r"Input should be a finite number", "应为有限的数值"),
    (r"String should have at most (\d+) characters?", "最多{1}个字符"),
    (r"String should have at least (\d+) characters?", "至少{1}个字符"),
    (r"Input should be a valid date.*", "应为日期（YYYY-MM-DD）"),
    (r"a date is written YYYY-MM-DD \(e\.g\. (\S+)\)", "日期应写作YYYY-MM-DD（如{1}）"),
    (r"(\S+) is not a date of the calendar", "{1}不是日历上的日期"),
    (r"Input should be a valid integer.*", "应为整数"),
    (r"Input should be a valid number.*", "应为数字"),
    (r"Input should be greater than or equal to (\S+)", "应不小于{1}"),
    (r"Input should be less than or equal to (\S+)", "应不大于{1}"),
    (r"Input should be greater than (\S+)", "应大于{1}"),
    (r"Input should be less than (\S+)", "应小于{1}"),
    (r"Input should be a valid boolean.*", "应为是或否（true / false）"),
    (r"Input should be a valid UUID.*", "应为UUID"),
    (r"Input should be a valid string.*", "应为文本"),
    (r"Input should be a valid list.*", "应为列表"),
    (r"Input should be a valid dictionary.*", "应为对象"),
    (r"Input should be ('.+)", "应为以下之一：{1}"),
    (r"String should match pattern '(.+)'", "格式不对（应符合 {1}）"),
    (r"Value error, (.+)", "{1:p}"),
)

PHRASES: dict[str, str] = {
    "an arrival": "入住",
    "a departure": "离开",
    "a move": "迁移",
    "a revocation": "注销",
    "move-in date": "入住日期",
    "departure": "离开日期",
    "person's birth": "此人的出生日期",
    "start of the employment": "入职日期",
    "none, the event is final": "无，事件已办结",
    "grid": "网格",
    "division": "行政区划",
    **PLAN_PHRASES,
    "deregister it first, or move": "请先注销它，或办理迁移",
    "give ends_previous (a move from elsewhere), or deregister it first": (
        "请勾选“从别处迁来”，或先注销它"
    ),
    "a primary residence of the person outside your scope": "此人在您辖区外的一处主要居住登记",
    # event statuses (maps.i18n)
    "reported": "已上报",
    "accepted": "已受理",
    "rejected": "不予受理",
    "dispatched": "已派遣",
    "handled": "已处置",
    "checked": "已核查",
    "closed": "已结案",
    # roles
    "officer": "网格员",
    "police": "民警",
    "planner": "规划员",
    "admin": "管理员",
    "auditor": "审计员",
}
