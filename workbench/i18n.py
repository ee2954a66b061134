"""The workbench's two languages and its one time zone.

Every label a page shows is a key here with its Chinese and English text, so a page is never half
translated; a key missing from the table fails the page test that renders it rather than showing
the raw key. Dates and times are shown in China Standard Time whatever the server's zone, since
that is where the platform's people work and where the regulator reads the filings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"


# key: (中文, English)
MESSAGES: dict[str, tuple[str, str]] = {
    "workbench": ("工作台", "Workbench"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "email": ("邮箱", "Email"),
    "password": ("密码", "Password"),
    "sign_in_failed": ("邮箱或密码不正确", "Incorrect email or password"),
    "inbox": ("待办", "Inbox"),
    "my_tasks": ("我的待办", "My tasks"),
    "dashboard": ("看板", "Dashboard"),
    "registers": ("台账", "Registers"),
    "notifications": ("通知", "Notifications"),
    "notification_rules": ("通知规则", "Notification rules"),
    "waybills": ("电子运单", "E-waybills"),
    "process": ("流程", "Process"),
    "all_processes": ("全部流程", "All processes"),
    "organisation": ("组织", "Organisation"),
    "age": ("时长", "Age"),
    "any_age": ("不限", "Any age"),
    "older_than_1d": ("超过 1 天", "Older than 1 day"),
    "older_than_3d": ("超过 3 天", "Older than 3 days"),
    "older_than_7d": ("超过 7 天", "Older than 7 days"),
    "filter": ("筛选", "Filter"),
    "task": ("任务", "Task"),
    "subject": ("对象", "Subject"),
    "due": ("截止", "Due"),
    "created": ("创建", "Created"),
    "overdue": ("已逾期", "Overdue"),
    "escalated": ("已升级", "Escalated"),
    "no_tasks": ("没有待办任务。", "Nothing is waiting for you."),
    "status": ("状态", "Status"),
    "decide": ("决定", "Decide"),
    "decision": ("决定", "Decision"),
    "comment": ("备注", "Comment"),
    "submit": ("提交", "Submit"),
    "outcome": ("结果", "Outcome"),
    "decided_by": ("决定人", "Decided by"),
    "decided_at": ("决定时间", "Decided at"),
    "documents": ("文件", "Documents"),
    "history": ("历程", "History"),
    "facts": ("决策依据", "Facts for the decision"),
    "timeline": ("时间线", "Timeline"),
    "current_state": ("当前状态", "Current state"),
    "open_in_temporal": ("在 Temporal Web UI 中打开", "Open in the Temporal Web UI"),
    "second_factor_code": ("验证器动态码", "Authenticator code"),
    "second_factor_needed": (
        "此决定涉及资金，需要验证器动态码。",
        "This decision moves money: enter your authenticator's code.",
    ),
    "answer": ("流程答复", "The process answered"),
    "error": ("出错了", "Something went wrong"),
    "not_found": ("未找到，或您无权查看。", "Not found, or not yours to see."),
    "forbidden": ("您无权访问此页面。", "You may not open this page."),
    "back_to_inbox": ("返回待办", "Back to the inbox"),
    "language": ("语言", "Language"),
    "search": ("搜索", "Search"),
    "search_hint": ("名称、编号或统一社会信用代码", "Name, number or credit code"),
    "no_results": ("没有结果。", "No results."),
    "read_only": ("只读", "Read only"),
    "china_time": ("北京时间", "China Standard Time"),
    "view": ("查看", "View"),
    "closed_tasks": ("已办", "Done"),
    "open_tasks": ("待办", "Open"),
    "amount": ("金额", "Amount"),
    "none": ("无", "None"),
    # -- the process page and the task page's history (workbench.pages.processes, timeline.html)
    "process_status": ("业务状态", "Business state"),
    "temporal_state": ("引擎状态", "Engine state"),
    "state_running": ("运行中", "Running"),
    "state_completed": ("已完成", "Completed"),
    "state_failed": ("失败", "Failed"),
    "state_terminated": ("已终止", "Terminated"),
    "state_canceled": ("已取消", "Cancelled"),
    "state_timed_out": ("已超时", "Timed out"),
    "state_continued_as_new": ("已转入新的运行", "Continued as a new run"),
    "state_unknown": ("引擎中无记录", "Not known to the engine"),
    "no_history": ("暂无记录。", "Nothing recorded yet."),
    # -- registers and the regulator's e-waybill pages (workbench.pages.registers*, regulator)
    "reg_suppliers": ("供应商", "Suppliers"),
    "reg_carriers": ("承运商", "Carriers"),
    "reg_rfqs": ("询价单", "RFQs"),
    "reg_contracts": ("合同", "Contracts"),
    "reg_orders": ("订单", "Orders"),
    "reg_shipments": ("发运批次", "Shipments"),
    "reg_waybills": ("电子运单", "E-waybills"),
    "reg_cold_chain": ("冷链运输", "Cold-chain shipments"),
    "reg_loans": ("订单贷款", "Loans"),
    "reg_regulator_waybills": ("电子运单备案查询", "Filed e-waybills (regulator)"),
    "no_registers": ("您没有可用的台账。", "No register is open to you."),
    "more_rows": (
        "只显示了最前面的记录，请用搜索缩小范围。",
        "Only the first rows are shown: narrow them with the search.",
    ),
    "name": ("名称", "Name"),
    "credit_code": ("统一社会信用代码", "Credit code"),
    "accreditation": ("准入状态", "Accreditation"),
    "tier": ("等级", "Tier"),
    "score": ("评分", "Score"),
    "certificates": ("证书", "Certificates"),
    "first_expiry": ("证书最早到期", "First certificate expiry"),
    "next_review": ("下次复审", "Next review"),
    "licence": ("道路运输经营许可证", "Operating licence"),
    "licence_expiry": ("许可证到期", "Licence expiry"),
    "permitted_classes": ("许可类别", "Permitted classes"),
    "number": ("编号", "Number"),
    "title": ("标题", "Title"),
    "buyer": ("采购方", "Buyer"),
    "supplier": ("供应商", "Supplier"),
    "carrier": ("承运商", "Carrier"),
    "quote_deadline": ("报价截止", "Quote deadline"),
    "needed_by": ("需求日期", "Needed by"),
    "total": ("总额", "Total"),
    "paid": ("已付", "Paid"),
    "order": ("订单", "Order"),
    "shipment": ("批次", "Shipment"),
    "waybill_number": ("运单号", "Waybill number"),
    "un_number": ("联合国编号", "UN number"),
    "hazard_class": ("危险类别", "Class"),
    "filed_at": ("备案时间", "Filed"),
    "dispatch_date": ("发运日期", "Dispatch date"),
    "consignor": ("托运人", "Consignor"),
    "consignee": ("收货人", "Consignee"),
    "vehicle": ("车辆", "Vehicle"),
    "plate": ("车牌号", "Plate"),
    "receipt": ("备案回执", "Filing receipt"),
    "route": ("路线", "Route"),
    "last_reading": ("最新读数", "Last reading"),
    "excursions": ("超限次数", "Excursions"),
    "verdict": ("判定", "Verdict"),
    "loan": ("贷款", "Loan"),
    "due_on": ("到期日", "Due on"),
    "outstanding": ("未还", "Outstanding"),
    "days_overdue": ("逾期天数", "Days overdue"),
    "overdue_only": ("只看逾期", "Overdue only"),
    "goods": ("货物", "Goods"),
    "proper_shipping_name": ("品名", "Proper shipping name"),
    "packing_group": ("包装类别", "Packing group"),
    "packages": ("件数", "Packages"),
    "quantity": ("数量", "Quantity"),
    "driver": ("驾驶员", "Driver"),
    "escort": ("押运员", "Escort"),
    "crew": ("驾驶员和押运员", "Crew"),
    "status_history": ("状态历史", "Status history"),
    "made_by": ("制单", "Made by"),
    "waybill_pdf": ("电子运单 PDF", "E-waybill PDF"),
    "loading_place": ("装货地", "Loading place"),
    "unloading_place": ("卸货地", "Unloading place"),
    "planned": ("计划时间", "Planned"),
    "trailer": ("挂车", "Trailer"),
    "tank": ("罐体", "Tank"),
    "valid_until": ("有效期至", "Valid until"),
    "emergency_contact": ("应急联系人", "Emergency contact"),
    "kind": ("类别", "Kind"),
    "at": ("时间", "At"),
    "sealed_hashes": ("封存哈希", "Sealed hashes"),
    # -- the dashboard (workbench.pages.dashboard, workbench.metrics_panels) --
    "dash_gmv": ("成交额 GMV", "GMV"),
    "dash_spend": ("采购支出", "Procurement spend"),
    "dash_sales": ("订单额", "Orders"),
    "dash_last_4_weeks": (
        "{what}（近 4 周，较前 4 周）：{figure}",
        "{what}, last 4 weeks (on the 4 before): {figure}",
    ),
    "dash_week": ("周（周一）", "Week (Monday)"),
    "dash_day": ("日期", "Day"),
    "dash_currency": ("币种", "Currency"),
    "dash_orders": ("订单数", "Orders"),
    "dash_nothing_yet": ("暂无数据", "nothing yet"),
    "dash_exact": ("精确数字", "Exact numbers"),
    "dash_window": (
        "近 12 周，按北京时间、周一起算。",
        "The last 12 weeks, in China Standard Time, weeks from Monday.",
    ),
    "dash_no_figures": ("您的角色暂无看板。", "There is no dashboard for your role yet."),
    "dash_lead_time": ("审批时长", "Approval lead time"),
    "dash_lead_headline": (
        "决定时长中位数 {median}；最慢（p90）：{slowest}",
        "Median time to a decision {median}; slowest (p90): {slowest}",
    ),
    "dash_median": ("中位数", "Median"),
    "dash_decided": ("已决定", "Decided"),
    "dash_on_time": ("准时交付率", "On-time delivery"),
    "dash_on_time_headline": (
        "准时交付率 {rate}（{whole} 批中 {on} 批准时）",
        "On time {rate} ({on} of {whole} shipments)",
    ),
    "dash_delivered": ("已交付", "Delivered"),
    "dash_on_time_count": ("准时", "On time"),
    "dash_rate": ("比率", "Rate"),
    "dash_filings": ("电子运单备案", "E-waybill filing"),
    "dash_filing_success": ("备案成功率", "Filing success"),
    "dash_filings_headline": (
        "已备案 {filed}，被退回 {refused}（成功率 {rate}）；提交到回执：中位数 {median}，p90 {p90}",
        "Filed {filed}, refused {refused} (success {rate}); submission to receipt: "
        "median {median}, p90 {p90}",
    ),
    "dash_filed": ("已备案", "Filed"),
    "dash_refused": ("被退回", "Refused"),
    "dash_cold_route": ("冷链：按线路", "Cold chain by route"),
    "dash_cold_carrier": ("冷链：按承运商", "Cold chain by carrier"),
    "dash_cold_headline": (
        "已决定 {trips} 趟；温度偏离率 {excursions}，货损率 {loss}",
        "{trips} trips decided; excursion rate {excursions}, loss rate {loss}",
    ),
    "dash_group": ("线路 / 承运商", "Route / carrier"),
    "dash_trips": ("趟数", "Trips"),
    "dash_excursion_rate": ("偏离率", "Excursion rate"),
    "dash_loss_rate": ("货损率", "Loss rate"),
    "dash_value_lost": ("货损金额", "Value lost"),
    "dash_loans": ("贷款敞口", "Loan exposure"),
    "dash_loans_headline": (
        "未偿 {owed}（{loans} 笔），其中逾期 {overdue}",
        "Outstanding {owed} ({loans} loans), overdue {overdue}",
    ),
    "dash_bad_debt_rate": ("坏账率", "Bad-debt rate"),
    "dash_grade": ("评级", "Grade"),
    "dash_loan_count": ("笔数", "Loans"),
    "dash_owed": ("未偿金额", "Owed"),
    "dash_savings": ("对比目标价节省", "Savings against target prices"),
    "dash_savings_headline": (
        "近 12 周较目标价节省：{figure}",
        "Saved against target prices, last 12 weeks: {figure}",
    ),
    "dash_target": ("目标价金额", "At target prices"),
    "dash_awarded": ("中标金额", "Awarded"),
    "dash_saved": ("节省", "Saved"),
    "dash_suppliers": ("供应商表现", "Supplier performance"),
    "dash_suppliers_headline": (
        "{suppliers} 家供应商；准时率 {rate}；争议 {disputes}；温度偏离 {excursions}",
        "{suppliers} suppliers; on time {rate}; disputes {disputes}; excursions {excursions}",
    ),
    "dash_supplier": ("供应商", "Supplier"),
    "dash_disputes": ("争议", "Disputes"),
    "dash_excursions": ("温度偏离", "Excursions"),
    "dash_receivables": ("应收账款", "Receivables"),
    "dash_receivables_headline": (
        "买方尚欠 {owed}，其中逾期 {overdue}",
        "Buyers owe you {owed}, overdue {overdue}",
    ),
    "dash_days_overdue": ("逾期天数", "Days past due"),
    "dash_filings_per_day": ("每日备案", "Filings per day"),
    "dash_filings_per_day_headline": (
        "近 30 天备案 {total} 份（{days} 天有备案）",
        "{total} filings in the last 30 days ({days} days with filings)",
    ),
    # -- the task page's facts (workbench.facts*, templates/facts/)
    "fact_a_year": ("年化", "a year"),
    "fact_applicant": ("申请方", "Applicant"),
    "fact_arrival": ("到达", "Arrival"),
    "fact_as_of": ("基准日", "as of"),
    "fact_award_per_line": ("逐行授标", "Award each line to"),
    "fact_award_choices_hint": (
        "已预选推荐的供应商；选择“不授标”则该行暂不授标。",
        "The recommended supplier is preselected; 'no award' leaves a line out for now.",
    ),
    "fact_budget_left_min": ("剩余稳定预算(分钟)", "Budget left (min)"),
    "fact_cert_valid": ("有效", "Valid"),
    "fact_cert_expiring": ("即将到期", "Expiring soon"),
    "fact_cert_expired": ("已过期", "Expired"),
    "fact_cert_failed": ("核验未通过", "Failed the check"),
    "fact_certificate": ("证书", "Certificate"),
    "fact_certificates": ("证书", "Certificates"),
    "fact_comparison_basis_net": ("到岸成本不含可抵扣进项税", "Landed costs net of deductible VAT"),
    "fact_comparison_basis_gross": ("到岸成本含增值税", "Landed costs including VAT"),
    "fact_cost_to_due_date": ("至到期日的成本", "Cost to the due date"),
    "fact_credit_assessment": ("信用评估", "Credit assessment"),
    "fact_credit_code_check": ("统一社会信用代码核验", "Credit code check"),
    "fact_critical": ("超出临界限值", "Critical limit passed"),
    "fact_current_ratio": ("流动比率", "Current ratio"),
    "fact_days": ("天", "days"),
    "fact_days_late": ("天延误", "days late"),
    "fact_days_left": ("天后到期", "days left"),
    "fact_debt_to_assets": ("资产负债率", "Debt to assets"),
    "fact_declined": ("评估拒绝", "Declined by the assessment"),
    "fact_duration_min": ("持续(分钟)", "Duration (min)"),
    "fact_effect": ("影响", "Effect"),
    "fact_effective_apr": ("实际年化利率", "Effective APR"),
    "fact_estimated": ("预估", "estimated"),
    "fact_excursion": ("温度偏离", "Excursion"),
    "fact_excursions": ("超限记录", "Runs outside the range"),
    "fact_expires": ("到期", "Expires"),
    "fact_fee": ("手续费", "Fee"),
    "fact_figures": ("各记录仪统计", "Figures per logger"),
    "fact_financial_ratios": ("财务比率", "Financial ratios"),
    "fact_flags": ("风险提示", "Flags"),
    "fact_from": ("开始", "From"),
    "fact_grade": ("信用等级", "Grade"),
    "fact_hard_failures": ("硬性不合格项", "Hard failures"),
    "fact_ineligible": ("不合格", "ineligible"),
    "fact_interest": ("利息", "Interest"),
    "fact_interest_coverage": ("利息保障倍数", "Interest coverage"),
    "fact_interest_rate": ("利率", "Interest rate"),
    "fact_invalid": ("无效", "Invalid"),
    "fact_issued": ("发证日期", "Issued"),
    "fact_kind": ("类型", "Kind"),
    "fact_landed_cost": ("到岸成本", "Landed cost"),
    "fact_loan": ("贷款", "Loan"),
    "fact_logger": ("记录仪", "Logger"),
    "fact_mean": ("均值", "Mean"),
    "fact_net_margin": ("净利率", "Net margin"),
    "fact_no_award": ("不授标", "No award"),
    "fact_no_readings": ("尚无温度读数。", "No readings yet."),
    "fact_ongoing": ("持续中", "ongoing"),
    "fact_operating_licence": ("道路运输经营许可证", "Operating licence"),
    "fact_order": ("订单", "Order"),
    "fact_out_of_range_min": ("超限时长(分钟)", "Out of range (min)"),
    "fact_outside_range": ("超出范围", "Outside the range"),
    "fact_peak": ("峰值", "Peak"),
    "fact_penalty_rate": ("罚息利率", "Penalty rate"),
    "fact_period": ("期间", "Period"),
    "fact_pickup": ("提货", "Pickup"),
    "fact_principal": ("本金", "Principal"),
    "fact_purpose": ("用途", "Purpose"),
    "fact_quick_ratio": ("速动比率", "Quick ratio"),
    "fact_readings": ("读数", "Readings"),
    "fact_reason": ("评估依据", "Reason"),
    "fact_receivable_due": ("应收账款及到期日", "Receivable, due on"),
    "fact_revenue_cagr": ("营收复合增长率", "Revenue CAGR"),
    "fact_revenue_growth": ("营收增长", "Revenue growth"),
    "fact_risk_band": ("风险等级", "Risk band"),
    "fact_saving_vs_target": ("较目标价节约", "Saving against the target"),
    "fact_score": ("评分", "Score"),
    "fact_severity_red": ("红色", "Red"),
    "fact_severity_amber": ("黄色", "Amber"),
    "fact_short_stock": ("库存不足", "short stock"),
    "fact_side": ("方向", "Side"),
    "fact_side_above": ("高于上限", "above"),
    "fact_side_below": ("低于下限", "below"),
    "fact_supplier": ("供应商", "Supplier"),
    "fact_target_price": ("目标价", "Target price"),
    "fact_temp_zone": ("温区", "Temperature zone"),
    "fact_tier": ("准入等级", "Tier"),
    "fact_to": ("结束", "To"),
    "fact_total_due": ("到期应还合计", "Total due"),
    "fact_total_landed": ("到岸成本合计", "Total landed cost"),
    "fact_trip": ("运输", "Trip"),
    "fact_unit_price": ("单价", "Unit price"),
    "fact_valid": ("有效", "Valid"),
    "fact_validity": ("有效性", "Validity"),
    "fact_verdict": ("判定", "Verdict"),
    "fact_year": ("年度", "Year"),
    "fact_zone": ("区间", "Zone"),
    "fact_zone_safe": ("安全区", "safe"),
    "fact_zone_grey": ("灰色区", "grey"),
    "fact_zone_distress": ("困境区", "distress"),
    # -- notifications (the bell and the rules page)
    "nt_when": ("时间", "When"),
    "nt_event": ("事件", "Event"),
    "nt_message": ("内容", "Message"),
    "nt_rule": ("规则", "Rule"),
    "nt_mark_read": ("标为已读", "Mark read"),
    "nt_nothing": ("暂无通知。", "No notifications yet."),
    "nt_saved": ("规则已保存", "Rule saved"),
    "nt_secret_once": (
        "Webhook 签名密钥（仅显示这一次，请妥善保存）：",
        "Webhook signing secret (shown this once, keep it safe):",
    ),
    "nt_not_saved": ("规则未保存：", "The rule was not saved:"),
    "nt_name": ("名称", "Name"),
    "nt_conditions": ("条件（全部满足）", "Conditions (all must hold)"),
    "nt_recipients": ("接收人（按角色或成员）", "Recipients (by role or member)"),
    "nt_channels": ("渠道", "Channels"),
    "nt_inactive": ("停用", "Inactive"),
    "nt_delete": ("删除", "Delete"),
    "nt_no_rules": ("尚未设置通知规则。", "No notification rules yet."),
    "nt_new_rule": ("新建规则", "New rule"),
    "nt_choose": ("选择事件", "Choose the event"),
    "nt_value": ("值", "Value"),
    "nt_currency": ("币种", "Currency"),
    "nt_channel_in_app": ("站内（铃铛）", "In-app (the bell)"),
    "nt_channel_email": ("电子邮件", "E-mail"),
    "nt_channel_webhook": ("Webhook（企业群机器人）", "Webhook (enterprise chat bot)"),
    "nt_webhook_url": ("Webhook 地址", "Webhook URL"),
    "nt_save": ("保存规则", "Save the rule"),
}


# The process a workflow id names (the part before its first colon), in words.
PROCESSES: dict[str, tuple[str, str]] = {
    "Accreditation": ("供应商准入", "Accreditation"),
    "Rfq": ("询价", "Request for quotation"),
    "Contract": ("电子合同", "E-contract"),
    "Order": ("订单履约", "Order fulfilment"),
    "ColdChain": ("冷链运输", "Cold chain"),
    "loan": ("订单融资", "Order loan"),
    "finance-reconciliation": ("银行对账", "Bank reconciliation"),
    "notification": ("通知投递", "Notification delivery"),
}


def process_of(workflow_id: str) -> str:
    """The process a workflow id belongs to: the prefix its contract's id helper gives it."""
    return workflow_id.split(":", 1)[0]


def process_label(lang: Lang, process: str) -> str:
    """A process's name in ``lang``; a process not named here shows its id prefix."""
    names = PROCESSES.get(process)
    return process if names is None else names[0 if lang is Lang.ZH else 1]


def translator(lang: Lang) -> Callable[[str], str]:
    """``t(key)``: the label in ``lang``; an unknown key raises, so no page shows a raw key."""
    index = 0 if lang is Lang.ZH else 1

    def t(key: str) -> str:
        return MESSAGES[key][index]

    return t


def both(key: str) -> str:
    """Both languages at once, for what has to read in either (error pages before a choice)."""
    zh, en = MESSAGES[key]
    return f"{zh} / {en}"


def china_time(moment: datetime | date | None, *, with_time: bool = True) -> str:
    """A moment as people here read it: China Standard Time, to the minute."""
    if moment is None:
        return "—"
    if not isinstance(moment, datetime):
        return moment.isoformat()
    local = moment.astimezone(CHINA)
    return local.strftime("%Y-%m-%d %H:%M") if with_time else local.strftime("%Y-%m-%d")


def money(amount: Decimal | str | None, currency: str = "") -> str:
    """An amount with thousands separators and its currency, never a float on the way."""
    if amount is None or amount == "":
        return "—"
    value = Decimal(str(amount))
    return f"{currency} {value:,.2f}".strip()
