"""How the store's refusals are recognised (pure: the errors as pynamodb raises them)."""
from __future__ import annotations

from pynamodb.exceptions import CancellationReason, PutError, TransactWriteError, VerboseClientError

from chalicelib import store


def _error(code: str, message: str, reasons: tuple = ()) -> VerboseClientError:
    return VerboseClientError({"Error": {"Code": code, "Message": message}}, "TransactWriteItems",
                              cancellation_reasons=reasons)


def test_an_item_over_400_kb_is_recognised_from_dynamodb_local_and_from_aws() -> None:
    # DynamoDB Local: the reason is in the message.
    local = _error("ValidationException", "Item size has exceeded the maximum allowed size")
    assert store.too_large(TransactWriteError("Failed to write transaction items", local))
    assert store.too_large(PutError("Failed to put item", local))
    # AWS: the transaction is cancelled, the reason is the item's.
    aws = _error("TransactionCanceledException",
                 "Transaction cancelled, please refer cancellation reasons for specific reasons "
                 "[None, ValidationError]",
                 (None, CancellationReason(code="ValidationError",
                                           message="Item size has exceeded the maximum allowed size")))
    assert store.too_large(TransactWriteError("Failed to write transaction items", aws))


def test_other_refusals_are_not_taken_for_a_size_problem() -> None:
    lost_race = _error("TransactionCanceledException", "Transaction cancelled [ConditionalCheckFailed]",
                       (CancellationReason(code="ConditionalCheckFailed", message="The conditional "
                                           "request failed"),))
    assert not store.too_large(TransactWriteError("Failed to write transaction items", lost_race))
    slow = _error("ProvisionedThroughputExceededException", "slow down")
    assert not store.too_large(PutError("Failed to put item", slow))
