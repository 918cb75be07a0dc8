"""The model: its lifecycle (``GetInferenceProfile``, ``GetFoundationModel``), whether this account
has access to it (``GetFoundationModelAvailability``), and whether it answers the very request the
service would send (one small ``Converse``: a few tokens, a fraction of a cent)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.bedrock import BedrockLanguageModel
from adapters.bedrock_models import UNKNOWN, base_model_id, is_inference_profile, traits_of
from adapters.preflight import FAIL, OK, WARN, Finding
from application.ports import Prompt, PromptMessage
from domain.model import Role

PING = Prompt(system=[], messages=[PromptMessage(Role.USER, "Answer with the word OK.")], estimated_tokens=8)
# Room for a model that thinks before it answers; the call still costs a fraction of a cent.
PING_MAX_TOKENS = 256
ACCESS_HELP = "grant model access first (docs/DEPLOY.md, 'Model access')"


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else "an unannounced date"


def lifecycle(bedrock: Any, model_id: str, now: datetime) -> list[Finding]:
    """Active, Legacy (with its end-of-life date) or past its end of life; and whether the id names
    something this region can invoke on demand."""
    findings: list[Finding] = []
    base = base_model_id(model_id)
    profile = is_inference_profile(model_id)
    if profile:
        try:
            answer = bedrock.get_inference_profile(inferenceProfileIdentifier=model_id)
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                return [Finding("inference profile", FAIL, f"{model_id} does not exist in this region")]
            findings.append(Finding("inference profile", WARN, f"could not read it: {_code(error)}"))
        else:
            routes = len(answer.get("models", []))
            state = f"{answer.get('status', '?')}, {answer.get('type', '?').lower()}"
            findings.append(Finding("inference profile", OK, f"{model_id}: {state}, {routes} region(s)"))
    try:
        details = bedrock.get_foundation_model(modelIdentifier=base)["modelDetails"]
    except ClientError as error:
        if _code(error) in ("ResourceNotFoundException", "ValidationException"):
            detail = f"{base} is unknown here or past its end of life: choose an Active model"
            return [*findings, Finding("model lifecycle", FAIL, detail)]
        return [*findings, Finding("model lifecycle", WARN, f"could not read it: {_code(error)}")]
    name = details.get("modelName", base)
    state = details.get("modelLifecycle", {})
    status = state.get("status", "?")
    end = state.get("endOfLifeTime")
    if status == "ACTIVE":
        findings.append(Finding("model lifecycle", OK, f"{name} ({base}): ACTIVE"))
    elif status == "LEGACY" and end is not None and end <= now:
        findings.append(Finding("model lifecycle", FAIL, f"{name}: end of life since {_day(end)}"))
    elif status == "LEGACY":
        days = f" ({(end.date() - now.date()).days} days)" if end else ""
        extended = state.get("publicExtendedAccessTime")
        pricier = (
            f"; extended access, at the provider's higher price, from {_day(extended)}" if extended else ""
        )
        detail = (
            f"{name}: LEGACY, end of life on {_day(end)}{days}{pricier}: plan the move to an Active model"
        )
        findings.append(Finding("model lifecycle", WARN, detail))
    else:
        findings.append(Finding("model lifecycle", WARN, f"{name}: lifecycle {status!r} not understood"))
    if not profile and "ON_DEMAND" not in details.get("inferenceTypesSupported", ["ON_DEMAND"]):
        detail = f"{base} is invoked only through an inference profile: use e.g. global.{base}"
        findings.append(Finding("model invocation", FAIL, detail))
    return findings


def known(model_id: str) -> Finding:
    traits = traits_of(model_id)
    if traits is UNKNOWN:
        detail = f"{model_id} is not in adapters/bedrock_models.py: no temperature, no prompt cache sent"
        return Finding("model table", WARN, detail)
    temperature = "takes a temperature" if traits.temperature_allowed else "no temperature sent"
    cache = "prompt caching" if traits.supports_prompt_cache else "no prompt caching"
    detail = (
        f"{traits.name}: {temperature}, {cache}, thinking {traits.thinking_default} by default"
        f"{' (sent disabled)' if traits.disable_thinking else ''}, "
        f"at most {traits.max_output_tokens} output tokens"
    )
    return Finding("model table", OK, detail)


def access(bedrock: Any, model_id: str) -> Finding:
    """Whether the account holds the model's agreement (a Marketplace subscription for third-party
    models; Anthropic's also want the first-use form) and IAM lets it be invoked."""
    base = base_model_id(model_id)
    try:
        answer = bedrock.get_foundation_model_availability(modelId=base)
    except ClientError as error:
        return Finding("model access", WARN, f"could not read it: {_code(error)}")
    agreement = answer.get("agreementAvailability", {})
    status = agreement.get("status", "?")
    if answer.get("authorizationStatus") == "NOT_AUTHORIZED":
        return Finding("model access", FAIL, f"IAM or an SCP denies {base} to this identity")
    if status == "PENDING":
        return Finding("model access", WARN, f"the subscription to {base} is still pending (up to 15 min)")
    if status != "AVAILABLE":
        reason = agreement.get("errorMessage") or status
        return Finding("model access", FAIL, f"no agreement for {base} ({reason}): {ACCESS_HELP}")
    if answer.get("regionAvailability") == "NOT_AVAILABLE" and not is_inference_profile(model_id):
        return Finding(
            "model access", FAIL, f"{base} is not offered in this region: use an inference profile"
        )
    return Finding("model access", OK, f"agreement AVAILABLE, {answer.get('entitlementAvailability', '?')}")


def invocation(runtime: Any, model_id: str) -> Finding:
    """The service's own request shape (``BedrockLanguageModel.request``), sent once."""
    request = BedrockLanguageModel(model_id, max_tokens=PING_MAX_TOKENS, client=runtime).request(PING)
    try:
        answer = runtime.converse(**request)
    except ClientError as error:
        code, message = _code(error), _message(error)
        if code == "AccessDeniedException":
            detail = f"access denied ({message}): {ACCESS_HELP}, or this identity lacks bedrock:InvokeModel"
            return Finding("model invocation", FAIL, detail)
        if code in ("ThrottlingException", "ServiceUnavailableException", "ModelNotReadyException"):
            return Finding("model invocation", WARN, f"busy ({code}): try again; not a refusal")
        return Finding("model invocation", FAIL, f"{code}: {message}")
    except BotoCoreError as error:
        return Finding("model invocation", WARN, f"no answer ({type(error).__name__})")
    usage = answer.get("usage", {})
    spent = f"{usage.get('inputTokens', '?')} tokens in, {usage.get('outputTokens', '?')} out"
    return Finding("model invocation", OK, f"answered our request ({spent})")
