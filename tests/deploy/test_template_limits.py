"""The limits that protect the bill, as deployed: a parameter each with the code's default, handed to
every function, and an alarm at 80% of the all-customers budget on the metric the code emits."""

from __future__ import annotations

from application.telemetry import DAILY_BUDGET_USED_PERCENT
from entrypoints.settings import load_settings
from tests.deploy.conftest import sam_template

LIMITS = {
    "CustomerMessagesPerMinute": ("CUSTOMER_MESSAGES_PER_MINUTE", "customer_messages_per_minute"),
    "CustomerDailyTokens": ("CUSTOMER_DAILY_TOKENS", "customer_daily_tokens"),
    "DailyTokens": ("DAILY_TOKENS", "daily_tokens"),
}


def test_each_limit_is_a_parameter_defaulting_to_the_code_and_reaching_every_function() -> None:
    template = sam_template()
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    defaults = load_settings({})
    for parameter, (variable, setting) in LIMITS.items():
        declared = template["Parameters"][parameter]
        assert declared["Type"] == "Number" and declared["MinValue"] == 0  # 0 turns it off
        assert int(declared["Default"]) == defaults[setting]
        assert shared[variable] == {"Ref": parameter}


def test_the_budget_alarm_watches_the_metric_the_code_emits_at_80_percent_when_there_is_a_budget() -> None:
    template = sam_template()
    alarm = template["Resources"]["DailyTokenBudgetAlarm"]
    assert alarm["Condition"] == "HasDailyTokens"
    assert template["Conditions"]["HasDailyTokens"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "DailyTokens"}, 0]}]
    }
    watched = alarm["Properties"]
    assert watched["MetricName"] == DAILY_BUDGET_USED_PERCENT
    assert (
        watched["Namespace"]
        == template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    )
    assert watched["Dimensions"] == [
        {
            "Name": "service",
            "Value": template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"],
        }
    ]
    assert (watched["Threshold"], watched["ComparisonOperator"]) == (80, "GreaterThanOrEqualToThreshold")
    assert watched["Statistic"] == "Maximum"
