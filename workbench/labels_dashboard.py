"""Labels of the dashboard. key: (中文, English)."""

from __future__ import annotations

LABELS: dict[str, tuple[str, str]] = {
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
}
