"""The words a process timeline uses: its steps, the systems they wait on, its messages, spans.

Activity, update and signal names are the workflows' wire names; each known one reads as what
happened, in Chinese and English. A name not in the tables (a step added later) is humanised
from its snake_case rather than hidden.
"""

from __future__ import annotations

from datetime import timedelta

Words = tuple[str, str]  # (中文, English)

# Completed activities, in the past tense.
ACTIVITIES: dict[str, Words] = {
    "analyse_financials": ("财务报表已分析", "Financial statements analysed"),
    "apply_repayment": ("还款已入账", "Repayment applied"),
    "arrive_cold_trip": ("冷链运输已到达", "Cold shipment arrived"),
    "assess_cold_trip": ("温度记录已评估", "Temperature record assessed"),
    "assess_loan": ("贷款已评估", "Loan assessed"),
    "assign_carrier": ("承运商已指派", "Carrier assigned"),
    "begin_cold_trip": ("冷链运输已出发", "Cold shipment under way"),
    "check_credit_code": ("统一社会信用代码已核验", "Credit code checked"),
    "check_loan": ("融资资格已核查", "Loan eligibility checked"),
    "check_waybill": ("电子运单已校验", "E-waybill checked"),
    "disburse_loan": ("贷款已放款", "Loan paid out"),
    "file_waybill": ("电子运单已向监管平台报送", "E-waybill filed with the regulator"),
    "file_waybill_status": ("运单状态已报送监管平台", "Waybill status reported to the regulator"),
    "issue_accreditation_certificate": ("准入证书已签发", "Accreditation certificate issued"),
    "issue_invoice": ("发票已开具", "Invoice issued"),
    "load_approval_policy": ("审批规则已读取", "Approval policy read"),
    "load_standings": ("供应商资质已读取", "Supplier standings read"),
    "loan_for_order": ("订单融资已查询", "The order's loan looked up"),
    "open_cold_trip": ("冷链运输已建立", "Cold shipment planned"),
    "rank_quotes": ("报价已比较排序", "Quotes compared and ranked"),
    "reconcile_bank": ("银行对账完成", "Bank statement reconciled"),
    "record_accreditation": ("准入结果已记录", "Accreditation recorded"),
    "record_application": ("申请已登记", "Application recorded"),
    "record_carrier_event": ("承运事件已记录", "Carrier event recorded"),
    "record_check_report": ("核查报告已记录", "Check report recorded"),
    "record_cold_decision": ("冷链处置决定已记录", "Cold-chain decision recorded"),
    "record_consignment": ("托运清单已记录", "Consignment list recorded"),
    "record_contract": ("合同已登记", "Contract recorded"),
    "record_decline": ("谢绝已记录", "Decline recorded"),
    "record_loading_check": ("装货检查已记录", "Loading check recorded"),
    "record_loan": ("融资申请已登记", "Loan recorded"),
    "record_order": ("订单已登记", "Order recorded"),
    "record_payment": ("付款已记录", "Payment recorded"),
    "record_quote": ("报价已记录", "Quote recorded"),
    "record_rfq": ("询价单已登记", "RFQ recorded"),
    "record_shipments": ("发运批次已记录", "Shipments recorded"),
    "register_receivable": ("应收账款已登记", "Receivable registered"),
    "release_registration": ("应收账款登记已注销", "Receivable registration released"),
    "release_stock": ("库存已释放", "Stock released"),
    "remit_to_supplier": ("余款已付给供应商", "Balance remitted to the supplier"),
    "render_contract": ("合同文本已生成", "Contract document rendered"),
    "reserve_stock": ("库存已预留", "Stock reserved"),
    "seal_waybill": ("电子运单已封存", "E-waybill sealed"),
    "set_application_status": ("申请状态已更新", "Application status updated"),
    "set_loan_status": ("融资状态已更新", "Loan status updated"),
    "set_order_status": ("订单状态已更新", "Order status updated"),
    "set_rfq_status": ("询价状态已更新", "RFQ status updated"),
    "set_shipment_status": ("发运状态已更新", "Shipment status updated"),
    "sign_contract": ("合同已签署", "Contract signed"),
    "verify_certificate": ("证书已向认证机构核验", "Certificate verified with the registry"),
    "verify_transport_licence": ("道路运输许可证已核验", "Transport licence verified"),
    "write_off_loan": ("贷款已核销", "Loan written off"),
}

# The task mechanism's own steps: the task lines tell them (opened, escalated, decided).
TASK_MECHANICS = frozenset({"open_task", "escalate_task", "close_task", "notify"})

# Activities that wait on a system outside the platform: an outage is that system's.
SYSTEMS: dict[str, Words] = {
    "file_waybill": ("监管平台", "The regulator"),
    "file_waybill_status": ("监管平台", "The regulator"),
    "verify_certificate": ("认证机构查询系统", "The certification registry"),
    "verify_transport_licence": ("道路运输许可查询系统", "The transport licence registry"),
    "disburse_loan": ("银行", "The bank"),
    "remit_to_supplier": ("银行", "The bank"),
    "reconcile_bank": ("银行", "The bank"),
    "register_receivable": ("应收账款登记平台", "The receivables registry"),
    "release_registration": ("应收账款登记平台", "The receivables registry"),
}

# Updates and signals a process received, by name.
MESSAGES_BY_NAME: dict[str, Words] = {
    "arrived": ("承运商报告已到达", "The carrier reported arrival"),
    "readings": ("收到温度读数", "Temperature readings received"),
    "cancel_order": ("收到取消订单请求", "Asked to cancel the order"),
    "cancel_rfq": ("收到取消询价请求", "Asked to cancel the RFQ"),
    "close_early": ("询价提前截止", "Bidding closed early"),
    "decline_rfq": ("供应商谢绝报价", "A supplier declined to quote"),
    "extend_deadline": ("报价截止时间已延长", "Quote deadline extended"),
    "record_carrier_event": ("承运商报告运输事件", "The carrier reported a transport event"),
    "record_payment": ("收到付款", "A payment came in"),
    "repay": ("订单回款通知融资", "The order's payment reached the loan"),
    "submit_quote": ("收到报价", "A quote came in"),
    "withdraw_loan": ("融资申请被撤回", "The loan application was withdrawn"),
    "submit_renewed_certificate": ("提交了更新的证书", "A renewed certificate was submitted"),
    "submit_renewed_licence": (
        "提交了更新的经营许可证",
        "A renewed operating licence was submitted",
    ),
}


def humanise(name: str) -> Words:
    """A wire name nobody put in words yet: ``record_thing`` reads "Record thing"."""
    words = name.replace("_", " ").replace("-", " ").strip() or name
    words = words[:1].upper() + words[1:]
    return words, words


def duration_words(span: timedelta) -> Words:
    """A span to the two largest units people say: "1 h 5 min", "2 d 3 h", "40 s"."""
    seconds = max(int(span.total_seconds()), 0)
    units = (("天", "d", 86_400), ("小时", "h", 3_600), ("分钟", "min", 60), ("秒", "s", 1))
    parts: list[tuple[str, str]] = []
    for zh, en, size in units:
        amount, seconds = divmod(seconds, size)
        if amount or parts:
            parts.append((f"{amount} {zh}", f"{amount} {en}"))
        if len(parts) == 2:
            break
    parts = [p for p in parts if not p[0].startswith("0 ")] or [("0 秒", "0 s")]
    return " ".join(p[0] for p in parts), " ".join(p[1] for p in parts)
