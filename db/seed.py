"""Demo organisations, users and rates for the embedded default, added on start when missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.common import OPERATOR_ORG_ID, OrgKind, Role
from db.models import ExchangeRate, Organisation, User
from security.passwords import hash_password

DEMO_PASSWORD = "tradeflow-demo"
DEMO_CARRIER_ID = "org_demo_carrier_anda"


@dataclass(frozen=True)
class DemoOrg:
    id: str
    kind: OrgKind
    legal_name: str
    name_en: str
    credit_code: str
    users: tuple[tuple[str, str, tuple[Role, ...]], ...]  # email, full name, roles
    # As on the business licence; all different, as the related-party rule of order loans
    # refuses parties at one address.
    registered_address: str | None = None


# Credit codes are valid GB 32100-2015 codes: structure, the organisation code's GB 11714 check
# character and the final check character (rules.credit_code). Supplier names match the seeded
# records of the certification registry sandbox, so their applications can pass.
DEMO_ORGS = (
    DemoOrg(
        OPERATOR_ORG_ID,
        OrgKind.OPERATOR,
        "贸易流平台运营有限公司",
        "Tradeflow Platform Operations Ltd.",
        "91100000MA0TF0P55U",
        (
            ("admin@tradeflow.example", "Ada Admin 管理员", (Role.ADMIN,)),
            ("compliance@tradeflow.example", "Chen Jing 陈静", (Role.COMPLIANCE,)),
            ("compliance2@tradeflow.example", "Li Wei 李伟", (Role.COMPLIANCE,)),
            ("supervisor@tradeflow.example", "Wang Fang 王芳", (Role.OPS_SUPERVISOR,)),
            ("logistics@tradeflow.example", "Zhao Lei 赵磊", (Role.LOGISTICS,)),
            # Platform finance: approves order loans (two of them above the threshold).
            ("finance@tradeflow.example", "Deng Hui 邓慧", (Role.FINANCE,)),
            ("finance2@tradeflow.example", "Feng Yu 冯雨", (Role.FINANCE,)),
        ),
        "北京市朝阳区建国路88号SOHO现代城A座1201室",
    ),
    DemoOrg(
        "org_demo_buyer_huadong",
        OrgKind.BUYER,
        "华东精细化工贸易有限公司",
        "East China Fine Chemicals Trading Co., Ltd.",
        "91310000MA1BUYER54",
        (
            ("buyer@huadong.example", "Sun Mei 孙梅", (Role.BUYER,)),
            ("finance@huadong.example", "Zhou Qiang 周强", (Role.FINANCE,)),
        ),
        "上海市浦东新区张杨路500号18楼1806室",
    ),
    DemoOrg(
        "org_demo_buyer_nanfang",
        OrgKind.BUYER,
        "南方生鲜连锁超市有限公司",
        "Southern Fresh Supermarkets Co., Ltd.",
        "91440300MA5FRE5H6E",
        (
            ("buyer@nanfang.example", "Huang Li 黄丽", (Role.BUYER,)),
            ("finance@nanfang.example", "Xu Tao 徐涛", (Role.FINANCE,)),
        ),
        "广东省深圳市福田区深南大道6008号21楼",
    ),
    DemoOrg(
        "org_demo_supplier_hengxin",
        OrgKind.SUPPLIER,
        "江苏恒信化工有限公司",
        "Jiangsu Hengxin Chemical Co., Ltd.",
        "91320200MA1HENGX53",
        (
            ("supplier@hengxin.example", "Gao Yang 高阳", (Role.SUPPLIER,)),
            ("logistics@hengxin.example", "Ma Jun 马军", (Role.LOGISTICS,)),
        ),
        "江苏省无锡市惠山区钱桥街道盛岸西路18号",
    ),
    DemoOrg(
        "org_demo_supplier_lianfeng",
        OrgKind.SUPPLIER,
        "浙江联丰冷链食品有限公司",
        "Zhejiang Lianfeng Cold Chain Foods Co., Ltd.",
        "91330100MA2L1ANF1U",
        (("supplier@lianfeng.example", "Lin Na 林娜", (Role.SUPPLIER,)),),
        "浙江省杭州市余杭区良渚街道莫干山路2999号",
    ),
    DemoOrg(
        "org_demo_supplier_anxin",
        OrgKind.SUPPLIER,
        "深圳安信电子有限公司",
        "Shenzhen Anxin Electronics Co., Ltd.",
        "91440300MA3ANX1N19",
        (("supplier@anxin.example", "He Bin 何斌", (Role.SUPPLIER,)),),
        "广东省深圳市宝安区西乡街道宝源路1065号",
    ),
    # Its operating licence is in the registry sandbox's licence register (sandboxes/seed), so
    # its carrier accreditation can pass; it is not accredited until it applies.
    DemoOrg(
        DEMO_CARRIER_ID,
        OrgKind.CARRIER,
        "江苏安达危险品运输有限公司",
        "Jiangsu Anda Hazmat Transport Co., Ltd.",
        "91320200MA1ANDA7XF",
        (
            ("manager@anda.example", "Zhang Hua 张华", (Role.CARRIER,)),
            ("dispatch@anda.example", "Liu Yang 刘洋", (Role.LOGISTICS,)),
        ),
        "江苏省无锡市新吴区长江路55号",
    ),
    DemoOrg(
        "org_demo_regulator",
        OrgKind.REGULATOR,
        "江苏省交通运输厅",
        "Jiangsu Provincial Department of Transport",
        "113200000140000016",
        (("inspector@regulator.example", "Qian Hui 钱慧", (Role.REGULATOR,)),),
        "江苏省南京市鼓楼区中山北路185号",
    ),
)


# The suppliers' settlement accounts at their banks, where an order loan is paid out and the
# rest of a financed order's payment remitted (accounts of the bank sandbox's format).
DEMO_BANK_ACCOUNTS = {
    "org_demo_supplier_hengxin": "6217000010032000118",
    "org_demo_supplier_lianfeng": "6217000020071000236",
    "org_demo_supplier_anxin": "6217000030045000354",
}


# Demo rates so awards in foreign currencies can be checked against the CNY approval chain.
# Figures for demonstration only, not the published central parity.
DEMO_RATES_AS_OF = date(2026, 11, 27)
DEMO_RATES_SOURCE = "PBoC central parity 2026-11-27 (demo figure)"
DEMO_RATES = (
    ("USD", "CNY", Decimal("7.1062")),
    ("EUR", "CNY", Decimal("7.5215")),
    ("HKD", "CNY", Decimal("0.91318")),
)


def seed_demo(session: Session, *, password: str = DEMO_PASSWORD) -> bool:
    """Create the demo organisations, users and rates that are missing; True when it created
    any. A database seeded by an earlier version gains what was added since (the demo carrier,
    platform finance, registered addresses, bank accounts) on the next start; what exists is left
    as it is, so running it twice changes nothing."""
    created = False
    hashed: str | None = None  # hashing is slow on purpose: only when a user is created
    for org in DEMO_ORGS:
        row = session.get(Organisation, org.id)
        if row is None:
            session.add(
                Organisation(
                    id=org.id,
                    kind=org.kind.value,
                    legal_name=org.legal_name,
                    name_en=org.name_en,
                    credit_code=org.credit_code,
                    registered_address=org.registered_address,
                    bank_account=DEMO_BANK_ACCOUNTS.get(org.id),
                )
            )
            session.flush()
            created = True
        elif row.registered_address is None and org.registered_address is not None:
            row.registered_address = org.registered_address  # seeded before addresses were kept
            created = True
        if row is not None and row.bank_account is None and org.id in DEMO_BANK_ACCOUNTS:
            row.bank_account = DEMO_BANK_ACCOUNTS[org.id]  # seeded before order loans paid out
            created = True
        for email, full_name, roles in org.users:
            if session.scalar(select(User.id).where(User.email == email)) is not None:
                continue
            hashed = hashed or hash_password(password)
            session.add(
                User(
                    id=demo_user_id(email, org.id),
                    org_id=org.id,
                    email=email,
                    full_name=full_name,
                    password_hash=hashed,
                    roles=[r.value for r in roles],
                )
            )
            created = True
    for base, quote, rate in DEMO_RATES:
        known = select(ExchangeRate.id).where(
            ExchangeRate.base == base,
            ExchangeRate.quote == quote,
            ExchangeRate.as_of == DEMO_RATES_AS_OF,
        )
        if session.scalar(known) is None:
            session.add(
                ExchangeRate(
                    base=base,
                    quote=quote,
                    rate=rate,
                    as_of=DEMO_RATES_AS_OF,
                    source=DEMO_RATES_SOURCE,
                    recorded_by="system",
                )
            )
            created = True
    session.flush()
    return created


def demo_user_id(email: str, org_id: str) -> str:
    """A demo user's id: the mailbox and the organisation's short name."""
    return "usr_" + email.split("@")[0] + "_" + org_id.removeprefix("org_")[:20]
