from enum import Enum

import strawberry


@strawberry.enum
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.enum(description="How a Count's `value` relates to the number of matches.")
class CountRelation(Enum):
    EQ = strawberry.enum_value("EQ", description="Exactly `value` match.")
    GTE = strawberry.enum_value(
        "GTE", description="At least `value` match: counting stopped at the bound."
    )
    ESTIMATE = strawberry.enum_value(
        "ESTIMATE",
        description="About `value` match, well above the bound: estimated from a sample, to "
        "two significant digits.",
    )


@strawberry.type(
    description="How many items match, exact up to a bound (10,000 by default, "
    "ROSTER_COUNT_BOUND); above it a lower bound or an estimate, as `relation` says. Fast "
    "however many match."
)
class Count:
    value: int
    exact: bool = strawberry.field(description="Whether `value` is the count (relation EQ).")
    relation: CountRelation
