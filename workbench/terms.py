"""The words for the codes processes speak in: statuses, outcomes, grades, bands.

A process records ``awaiting_second_approval`` or offers the outcome ``award``; a page shows
"待第二人审批" or "Awaiting a second approval". One table for every page, so the same status
reads the same on the inbox, the task, the process and the registers. A code not in the table is
shown humanised ("keep_collecting" as "keep collecting") rather than hidden: a new status of a
process appears at once, in English words, until it is given its Chinese.
"""

from __future__ import annotations

from workbench.i18n import Lang

TERMS: dict[str, tuple[str, str]] = {
    # tasks
    "open": ("待处理", "Open"),
    "decided": ("已决定", "Decided"),
    "expired": ("已过期", "Expired"),
    "cancelled": ("已取消", "Cancelled"),
    # outcomes
    "approve": ("批准", "Approve"),
    "reject": ("驳回", "Reject"),
    "award": ("授标", "Award"),
    "close": ("关闭询价", "Close"),
    "accept": ("接受", "Accept"),
    "decline": ("拒绝", "Decline"),
    "dispute": ("提出争议", "Dispute"),
    "acknowledge": ("知悉", "Acknowledge"),
    "confirm": ("确认", "Confirm"),
    "keep": ("保持", "Keep"),
    "suspend": ("暂停", "Suspend"),
    "keep_collecting": ("继续催收", "Keep collecting"),
    "write_off": ("核销", "Write off"),
    "load": ("装车", "Load"),
    "refuse": ("拒绝装车", "Refuse"),
    "retry": ("重试", "Retry"),
    "cancel": ("取消", "Cancel"),
    "sign": ("签署", "Sign"),
    "submit": ("提交", "Submit"),
    "skip": ("跳过", "Skip"),
    "end": ("结束", "End"),
    "accept_with_claim": ("接受并索赔", "Accept with a claim"),
    # accreditation
    "checking": ("核验中", "Checking"),
    "under_review": ("审核中", "Under review"),
    "awaiting_second_approval": ("待第二人审批", "Awaiting a second approval"),
    "accredited": ("已准入", "Accredited"),
    "rejected": ("已驳回", "Rejected"),
    "suspended": ("已暂停", "Suspended"),
    "lapsed": ("已失效", "Lapsed"),
    "low": ("低", "Low"),
    "medium": ("中", "Medium"),
    "high": ("高", "High"),
    "tier_1": ("一级", "Tier 1"),
    "tier_2": ("二级", "Tier 2"),
    "tier_3": ("三级", "Tier 3"),
    # sourcing
    "evaluating": ("评标中", "Evaluating"),
    "awarding": ("授标中", "Awarding"),
    "completed": ("已完成", "Completed"),
    "active": ("有效", "Active"),
    "superseded": ("已被替代", "Superseded"),
    "declined": ("已拒绝", "Declined"),
    "awaiting_approval": ("待审批", "Awaiting approval"),
    "awaiting_signatures": ("待签署", "Awaiting signatures"),
    "executed": ("已生效", "Executed"),
    # orders
    "awaiting_confirmation": ("待确认", "Awaiting confirmation"),
    "confirmed": ("已确认", "Confirmed"),
    "awaiting_consignment": ("待出具托运清单", "Awaiting the consignment list"),
    "awaiting_waybill": ("待制作运单", "Awaiting the waybill"),
    "awaiting_safety_approval": ("待安全审核", "Awaiting safety approval"),
    "filing": ("备案中", "Filing"),
    "filed": ("已备案", "Filed"),
    "awaiting_loading_check": ("待装车检查", "Awaiting the loading check"),
    "ready_to_dispatch": ("待发运", "Ready to dispatch"),
    "in_transit": ("运输中", "In transit"),
    "departed": ("已发车", "Departed"),
    "delivered": ("已送达", "Delivered"),
    "invoiced": ("已开票", "Invoiced"),
    "disputed": ("有争议", "Disputed"),
    "refused": ("已拒绝", "Refused"),
    "voided": ("已作废", "Voided"),
    # loans
    "applied": ("已申请", "Applied"),
    "offered": ("已报价", "Offered"),
    "registering": ("登记中", "Registering"),
    "disbursing": ("放款中", "Disbursing"),
    "disbursed": ("已放款", "Disbursed"),
    "disbursement_rejected": ("放款被拒", "Payout refused"),
    "overdue": ("已逾期", "Overdue"),
    "repaid": ("已还清", "Repaid"),
    "withdrawn": ("已撤回", "Withdrawn"),
    "written_off": ("已核销", "Written off"),
    "registered": ("已登记", "Registered"),
    "released": ("已解除", "Released"),
    "settled": ("已结算", "Settled"),
    # notifications
    "pending": ("待投递", "Pending"),
    "failed": ("失败", "Failed"),
    # catalogue purchases and imports
    "recording": ("记录中", "Recording"),
    "reserved": ("已预留库存", "Stock reserved"),
    "ordered": ("已下单", "Ordered"),
    "writing": ("写入中", "Writing"),
    # the engine
    "running": ("运行中", "Running"),
    # cold chain (trips, verdicts, dispositions)
    "planned": ("待发车", "Planned"),
    "arrived": ("已到达", "Arrived"),
    "picked_up": ("已提货", "Picked up"),
    "release_with_deviation": ("偏差放行", "Release with a deviation"),
    "quarantine": ("隔离待检", "Quarantine"),
    # task kinds (workflows' TaskSpec kinds and contracts' *_TASK constants)
    "accreditation_review": ("准入审核", "Accreditation review"),
    "accreditation_second_review": ("准入复核（第二人）", "Second approval (four eyes)"),
    "accreditation_financial_review": ("年度财务复审", "Financial review"),
    "process_attention": ("流程待人工处理", "Process needs attention"),
    "rfq_award": ("授标", "Award"),
    "contract_approval": ("合同审批", "Contract approval"),
    "contract_signature": ("合同签署", "Contract signature"),
    "order_confirmation": ("订单确认", "Order confirmation"),
    "consignment_list": ("托运清单", "Consignment list"),
    "waybill_submission": ("电子运单提交", "E-waybill submission"),
    "waybill_safety_review": ("运单安全审核", "E-waybill safety review"),
    "loading_check": ("装车检查", "Loading check"),
    "order_acceptance": ("收货验收", "Acceptance"),
    "order_dispute": ("争议处理", "Dispute"),
    "cold_chain_alert": ("温度告警", "Temperature alert"),
    "cold_chain_disposition": ("冷链货物处置", "Cold-chain disposition"),
    "cold_chain_inspection": ("冷链到货检验", "Cold-chain inspection"),
    "loan_receivable_confirmation": ("应收账款确权", "Receivable confirmation"),
    "loan_approval": ("融资审批", "Loan approval"),
    "loan_offer": ("融资要约", "Loan offer"),
    "loan_disbursement_rejected": ("放款被拒处理", "Refused payout"),
    "loan_collections": ("逾期催收", "Collections"),
    "loan_write_off": ("核销审批", "Write-off"),
    # roles (whom a task waits for)
    "buyer": ("采购", "buyer"),
    "supplier": ("供应商", "supplier"),
    "compliance": ("合规", "compliance"),
    "logistics": ("物流", "logistics"),
    "finance": ("财务", "finance"),
    "ops_supervisor": ("运营主管", "operations supervisor"),
    "regulator": ("监管", "regulator"),
    "admin": ("管理员", "administrator"),
    "carrier": ("承运商", "carrier"),
    # documents' kinds
    "accreditation": ("准入申请材料", "Accreditation file"),
    "accreditation_certificate": ("准入证书", "Accreditation certificate"),
    "certificate_renewal": ("更新的证书", "Renewed certificate"),
    "licence_renewal": ("更新的许可证", "Renewed licence"),
    "order": ("订单文件", "Order document"),
    "e_contract": ("电子合同", "E-contract"),
    "e_waybill": ("电子运单", "E-waybill"),
    "invoice": ("发票", "Invoice"),
    "credit_note": ("红字发票", "Credit note"),
    "temperature_report": ("温度报告", "Temperature report"),
    "vehicle_inspection": ("车辆检验证明", "Vehicle inspection"),
    "qualification_certificate": ("从业资格证", "Qualification certificate"),
    "bank_reconciliation": ("银行对账单", "Bank reconciliation"),
    # crew qualifications on a filed e-waybill (contracts.waybill.QualificationCategory)
    "dg_driver": ("道路危险货物运输驾驶员", "Dangerous goods driver"),
    "dg_escort": ("道路危险货物运输押运人员", "Dangerous goods escort"),
    "dg_loading_manager": ("装卸管理人员", "Loading manager"),
    # a loan assessment's flags (rules.loan_credit)
    "buyer_order_jump": ("买方订单额骤增", "The buyer's orders jumped"),
    "new_buyer": ("新买方（尚无付款记录）", "New buyer (no invoice paid yet)"),
    "high_concentration": ("对单一买方依赖度高", "High concentration on one buyer"),
    # notification events (rules.notification_rules.EVENT_TYPES)
    "order_confirmed": ("订单已确认", "Order confirmed"),
    "shipment_ready": ("货物待发运", "Shipment ready to dispatch"),
    "order_invoiced": ("订单已开票", "Order invoiced"),
    "order_completed": ("订单已付清", "Order paid in full"),
    "order_cancelled": ("订单已取消", "Order cancelled"),
    "order_refused": ("订单被拒绝", "Order refused"),
    "contract_to_sign": ("合同待签署", "Contract to sign"),
    "contract_executed": ("合同已生效", "Contract executed"),
    "certificate_expiring": ("证书即将到期", "Certificate expiring"),
    "accreditation_accredited": ("准入已通过", "Accreditation granted"),
    "accreditation_rejected": ("准入被驳回", "Accreditation refused"),
    "loan_disbursed": ("贷款已放款", "Loan paid out"),
    "loan_overdue": ("贷款已逾期", "Loan overdue"),
    "loan_repaid": ("贷款已还清", "Loan repaid"),
    "loan_written_off": ("贷款已核销", "Loan written off"),
    "loan_recovery": ("核销后回款", "Payment on a written-off loan"),
    "incident_opened": ("步骤持续失败", "A step keeps failing"),
    "catalogue_import_finished": ("商品导入已结束", "Catalogue import finished"),
    # condition operators
    "gt": ("大于", "above"),
    "gte": ("不小于", "at least"),
    "lt": ("小于", "below"),
    "lte": ("不大于", "at most"),
    "eq": ("等于", "equals"),
    "ne": ("不等于", "differs from"),
    "contains": ("包含", "contains"),
    # channels
    "in_app": ("站内", "in-app"),
    "email": ("电子邮件", "e-mail"),
    "webhook": ("Webhook", "webhook"),
}


def term(lang: Lang, code: str | None) -> str:
    """``code`` in words of ``lang``; an unknown code humanised, None as a dash."""
    if code is None or code == "":
        return "—"
    words = TERMS.get(code)
    if words is None:
        return code.replace("_", " ")
    return words[0 if lang is Lang.ZH else 1]
