"""AWS prices the cost rows use: us-east-1, Lambda on arm64 (template.yaml), DynamoDB
on-demand, standard table class. Dated constants, each with the page that lists it and the
date it took effect, because the benchmark runs offline: change them when AWS does.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    usd: float
    per: str
    since: str
    source: str


LAMBDA_PRICING = "https://aws.amazon.com/lambda/pricing/"
DYNAMODB_PRICING = "https://aws.amazon.com/dynamodb/pricing/on-demand/"

LAMBDA_ARM_GB_SECOND = Price(0.0000133334, "GB-second (arm64, first 7.5 billion a month)",
                             "2021-09-29", LAMBDA_PRICING)
LAMBDA_REQUEST = Price(0.20 / 1e6, "request", "2014-11-13", LAMBDA_PRICING)
DYNAMODB_READ_UNIT = Price(0.125 / 1e6, "read request unit", "2024-11-01", DYNAMODB_PRICING)
DYNAMODB_WRITE_UNIT = Price(0.625 / 1e6, "write request unit", "2024-11-01", DYNAMODB_PRICING)
# SnapStart for Python: each restore of a snapshot, and each cached snapshot while active.
SNAPSTART_RESTORE_GB = Price(0.0001397998, "GB restored", "2024-11-18", LAMBDA_PRICING)
SNAPSTART_CACHE_GB_SECOND = Price(0.0000015046, "GB-second cached (3 hours minimum)",
                                  "2024-11-18", LAMBDA_PRICING)
# Since this date Lambda bills the init phase of on-demand functions like the invoke phase
# (AWS Compute Blog, "AWS Lambda standardizes billing for INIT Phase").
INIT_BILLED_SINCE = "2025-08-01"


def as_json() -> dict[str, dict[str, object]]:
    """Every price with its unit, date and source, for results.json and the notes."""
    named = {
        "lambda_arm_gb_second": LAMBDA_ARM_GB_SECOND,
        "lambda_request": LAMBDA_REQUEST,
        "dynamodb_read_unit": DYNAMODB_READ_UNIT,
        "dynamodb_write_unit": DYNAMODB_WRITE_UNIT,
        "snapstart_restore_gb": SNAPSTART_RESTORE_GB,
        "snapstart_cache_gb_second": SNAPSTART_CACHE_GB_SECOND,
    }
    return {name: price.__dict__ for name, price in named.items()}
