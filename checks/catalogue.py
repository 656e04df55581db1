"""The check catalogue: one entry per check code, the text inspectors read.

Each entry names its SQL file (`sql/checks/<code>.sql`) by its code and the
policy parameters it reads; descriptions may quote parameters as
`{window_months}` and are rendered from `config/policy.yaml`, so the text an
inspector reads cannot drift from the rule that ran.
"""

from __future__ import annotations

from dataclasses import dataclass

from config import flatten


@dataclass(frozen=True)
class Check:
    code: str
    name_zh: str
    description_zh: str
    policy_basis: str
    severity: str  # high: money to recover or owed; medium: eligibility; low: data quality
    params: tuple[str, ...] = ()

    def render_description(self, policy: dict) -> str:
        return self.description_zh.format(**flatten(policy))


CATALOGUE: tuple[Check, ...] = (
    Check(
        code="deceased_paid",
        name_zh="死亡人员仍领取",
        description_zh=(
            "户籍登记死亡或有火化记录的人员，在死亡当月之后仍有发放记录（低保金按保障人数分摊到已死亡的保障对象）。"
            "死亡当月的发放是正确的；之后各月的金额应予追回。只计算最近 {window_months} 个月的发放明细。"
        ),
        policy_basis="《社会救助暂行办法》第十三条；《最低生活保障审核确认办法》第三十条",
        severity="high",
        params=("window_months",),
    ),
    Check(
        code="moved_out_paid",
        name_zh="迁出仍领取",
        description_zh=(
            "户籍登记已迁出本县的人员，在迁出当月之后仍有发放记录。迁出当月的发放是正确的；"
            "之后各月的金额应予追回。只计算最近 {window_months} 个月的发放明细。"
        ),
        policy_basis="《最低生活保障审核确认办法》第三十条",
        severity="high",
        params=("window_months",),
    ),
)

BY_CODE = {check.code: check for check in CATALOGUE}
