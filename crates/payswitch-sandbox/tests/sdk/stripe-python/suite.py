"""Drives Stripe's official Python SDK (stripe-python, pinned in requirements.txt) against a
running payswitch sandbox: create, retrieve and list every emulated object, the lifecycle
operations, and the errors, each raised as the SDK's own error class.

    PAYSWITCH_SANDBOX_URL=http://127.0.0.1:12111 .venv/bin/python suite.py

`sdk_stripe.rs` starts the sandbox binary and runs this; it prints `N passed, M failed` and
exits non-zero when a check fails. Paying a session is the customer's part, done through the
sandbox's admin API (`POST /__sandbox/checkouts/{id}/pay`), as a browser would on the page.
"""

import json
import os
import sys
import traceback
import urllib.request

import stripe

BASE = os.environ.get("PAYSWITCH_SANDBOX_URL", "http://127.0.0.1:12111").rstrip("/")
KEY = os.environ.get("PAYSWITCH_STRIPE_SECRET_KEY", "sk_test_sandbox")

# The modern client, pointed at the sandbox; no retries, so an error is seen as answered.
client = stripe.StripeClient(KEY, base_addresses={"api": BASE}, max_network_retries=0)
v1 = client.v1

# The global configuration style too (stripe.api_base), used by one check below.
stripe.api_key = KEY
stripe.api_base = BASE
stripe.max_network_retries = 0

SUCCESS_URL = "https://shop.test/success?session_id={CHECKOUT_SESSION_ID}"
ids = {}
checks = []


def check(function):
    """Registers a check; checks run in the order they are defined and share `ids`."""
    checks.append(function)
    return function


def admin(path, body=None):
    """Calls the sandbox's admin API (the customer's side: paying, the clock)."""
    request = urllib.request.Request(
        BASE + path,
        data=json.dumps(body or {}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def expect_error(error_class, call, code=None, param=None):
    """Runs `call`, which must raise `error_class` with `code` and `param` when given."""
    try:
        call()
    except error_class as error:
        if code is not None:
            assert error.code == code, (error.code, error.user_message)
        if param is not None:
            assert error.param == param, (error.param, error.user_message)
        return error
    raise AssertionError(f"expected {error_class.__name__}")


@check
def prices_create_retrieve_list_update():
    price = v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 1500,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Pro"},
            "metadata": {"tier": "pro"},
        }
    )
    assert price.id.startswith("price_") and price.recurring.interval == "month"
    ids["price"] = price.id
    assert v1.prices.retrieve(price.id, params={"expand": ["product"]}).product.name == "Pro"
    assert any(p.id == price.id for p in v1.prices.list(params={"type": "recurring"}).data)
    updated = v1.prices.update(price.id, params={"nickname": "monthly"})
    assert updated.nickname == "monthly"
    one_time = v1.prices.create(
        params={"currency": "usd", "unit_amount": 700, "product_data": {"name": "Setup"}}
    )
    ids["one_time_price"] = one_time.id


@check
def coupons_and_promotion_codes():
    coupon = v1.coupons.create(params={"percent_off": 20, "duration": "forever", "name": "Friends"})
    ids["coupon"] = coupon.id
    assert v1.coupons.retrieve(coupon.id).percent_off == 20
    assert any(c.id == coupon.id for c in v1.coupons.list().data)
    assert v1.coupons.update(coupon.id, params={"metadata": {"a": "b"}}).metadata["a"] == "b"
    code = v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "FRIENDS20"}
    )
    ids["promotion_code"] = code.id
    assert v1.promotion_codes.retrieve(code.id).code == "FRIENDS20"
    listed = v1.promotion_codes.list(params={"code": "friends20"})
    assert [c.id for c in listed.data] == [code.id]
    assert v1.promotion_codes.update(code.id, params={"active": False}).active is False
    assert v1.promotion_codes.update(code.id, params={"active": True}).active is True


@check
def customers_create_retrieve_update_list_search():
    customer = v1.customers.create(params={"email": "ada@shop.test", "name": "Ada"})
    ids["customer"] = customer.id
    assert v1.customers.retrieve(customer.id).email == "ada@shop.test"
    assert v1.customers.update(customer.id, params={"name": "Ada L."}).name == "Ada L."
    assert any(c.id == customer.id for c in v1.customers.list().data)
    found = v1.customers.search(params={"query": "email:'ada@shop.test'"})
    assert [c.id for c in found.data] == [customer.id]
    # The global style: stripe.api_base pointed at the sandbox.
    assert stripe.Customer.retrieve(customer.id).id == customer.id


@check
def checkout_payment_session_line_items_update_and_pay():
    session = v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "success_url": SUCCESS_URL,
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 2000,
                        "product_data": {"name": "T-shirt"},
                    },
                    "quantity": 2,
                },
                {"price": ids["one_time_price"], "quantity": 1},
            ],
            "metadata": {"order_id": "42"},
            "payment_intent_data": {"metadata": {"order_id": "42"}, "description": "Order 42"},
        },
        options={"idempotency_key": "python-session-1"},
    )
    assert session.status == "open" and session.amount_total == 4700
    ids["session"] = session.id
    items = v1.checkout.sessions.line_items.list(session.id)
    assert [item.quantity for item in items.data] == [2, 1]
    assert items.data[0].price.created > 0
    assert v1.checkout.sessions.update(
        session.id, params={"metadata": {"step": "2"}}
    ).metadata["step"] == "2"
    assert any(s.id == session.id for s in v1.checkout.sessions.list(params={"limit": 5}).data)
    admin(f"/__sandbox/checkouts/{session.id}/pay", {"email": "ada@shop.test"})
    paid = v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent", "line_items"]}
    )
    assert paid.payment_status == "paid"
    assert paid.payment_intent.metadata["order_id"] == "42"
    ids["paid_intent"] = paid.payment_intent.id


@check
def refunds_create_retrieve_list():
    refund = v1.refunds.create(params={"payment_intent": ids["paid_intent"], "amount": 500})
    assert refund.status == "succeeded" and refund.amount == 500
    assert v1.refunds.retrieve(refund.id).id == refund.id
    listed = v1.refunds.list(params={"payment_intent": ids["paid_intent"]})
    assert [r.id for r in listed.data] == [refund.id]


@check
def session_expire():
    session = v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "success_url": SUCCESS_URL,
            "line_items": [{"price": ids["one_time_price"], "quantity": 1}],
        }
    )
    assert v1.checkout.sessions.expire(session.id).status == "expired"


@check
def payment_intents_confirm_update_capture_cancel_list():
    intent = v1.payment_intents.create(
        params={
            "amount": 1099,
            "currency": "usd",
            "automatic_payment_methods": {"enabled": True},
            "metadata": {"order_id": "6735"},
        }
    )
    assert intent.status == "requires_payment_method"
    assert v1.payment_intents.update(intent.id, params={"description": "Mug"}).description == "Mug"
    confirmed = v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert confirmed.status == "succeeded"
    assert v1.payment_intents.retrieve(intent.id).latest_charge
    manual = v1.payment_intents.create(
        params={
            "amount": 2500,
            "currency": "eur",
            "capture_method": "manual",
            "confirm": True,
            "payment_method": "pm_card_visa",
        }
    )
    assert manual.status == "requires_capture"
    assert v1.payment_intents.capture(manual.id).status == "succeeded"
    abandoned = v1.payment_intents.create(params={"amount": 800, "currency": "usd"})
    canceled = v1.payment_intents.cancel(
        abandoned.id, params={"cancellation_reason": "abandoned"}
    )
    assert canceled.status == "canceled"
    assert any(p.id == intent.id for p in v1.payment_intents.list(params={"limit": 10}).data)


@check
def declined_card_raises_card_error():
    intent = v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    error = expect_error(
        stripe.CardError,
        lambda: v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_chargeDeclined"}
        ),
        code="card_declined",
    )
    assert error.error.decline_code == "generic_decline"
    assert error.error.payment_intent.last_payment_error.payment_method.card.last4 == "0002"


@check
def subscription_lifecycle():
    session = v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "success_url": SUCCESS_URL,
            "customer": ids["customer"],
            "line_items": [{"price": ids["price"], "quantity": 1}],
            "discounts": [{"promotion_code": ids["promotion_code"]}],
        }
    )
    admin(f"/__sandbox/checkouts/{session.id}/pay")
    done = v1.checkout.sessions.retrieve(session.id)
    subscription = v1.subscriptions.retrieve(done.subscription)
    assert subscription.status == "active"
    assert any(s.id == subscription.id for s in v1.subscriptions.list().data)
    item = subscription["items"].data[0]
    updated = v1.subscriptions.update(
        subscription.id, params={"items": [{"id": item.id, "quantity": 2}]}
    )
    assert updated["items"].data[0].quantity == 2
    scheduled = v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})
    assert scheduled.cancel_at_period_end is True
    resumed = v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": False})
    assert resumed.cancel_at_period_end is False
    preview = v1.invoices.create_preview(params={"subscription": subscription.id})
    assert preview.id.startswith("upcoming_in_")
    invoices = v1.invoices.list(params={"subscription": subscription.id})
    assert invoices.data and v1.invoices.retrieve(invoices.data[0].id).status == "paid"
    portal = v1.billing_portal.sessions.create(
        params={"customer": ids["customer"], "return_url": "https://shop.test/account"}
    )
    assert portal.url.startswith(BASE)
    # Only a paused subscription resumes.
    expect_error(stripe.InvalidRequestError, lambda: v1.subscriptions.resume(subscription.id))
    assert v1.subscriptions.cancel(subscription.id).status == "canceled"


@check
def setup_session_creates_a_setup_intent():
    session = v1.checkout.sessions.create(
        params={
            "mode": "setup",
            "currency": "usd",
            "success_url": SUCCESS_URL,
            "customer": ids["customer"],
            "setup_intent_data": {"metadata": {"purpose": "card_on_file"}},
        }
    )
    admin(f"/__sandbox/checkouts/{session.id}/pay")
    done = v1.checkout.sessions.retrieve(session.id)
    intent = v1.setup_intents.retrieve(done.setup_intent)
    assert intent.status == "succeeded" and intent.metadata["purpose"] == "card_on_file"


@check
def errors_raise_the_sdk_error_classes():
    expect_error(
        stripe.InvalidRequestError,
        lambda: v1.checkout.sessions.create(params={"mode": "payment", "bogus": "1"}),
        code="parameter_unknown",
        param="bogus",
    )
    refused = expect_error(
        stripe.InvalidRequestError,
        lambda: v1.checkout.sessions.create(
            params={"mode": "payment", "automatic_tax": {"enabled": True}}
        ),
        param="automatic_tax[enabled]",
    )
    assert "not emulated by the payswitch sandbox" in refused.user_message
    expect_error(
        stripe.InvalidRequestError,
        lambda: v1.checkout.sessions.retrieve("cs_test_missing"),
        code="resource_missing",
    )
    expect_error(
        stripe.InvalidRequestError,
        lambda: v1.prices.create(
            params={"currency": "xyz", "unit_amount": 100, "product_data": {"name": "X"}}
        ),
        param="currency",
    )
    wrong_key = stripe.StripeClient(
        "sk_test_wrong", base_addresses={"api": BASE}, max_network_retries=0
    )
    expect_error(stripe.AuthenticationError, lambda: wrong_key.v1.customers.list())
    v1.coupons.create(params={"percent_off": 5}, options={"idempotency_key": "python-idem"})
    expect_error(
        stripe.IdempotencyError,
        lambda: v1.coupons.create(
            params={"percent_off": 6}, options={"idempotency_key": "python-idem"}
        ),
    )


def main():
    passed = failed = 0
    for function in checks:
        try:
            function()
            passed += 1
            print(f"ok   {function.__name__}")
        except Exception:  # noqa: BLE001 - every failure is reported, then counted
            failed += 1
            print(f"FAIL {function.__name__}")
            traceback.print_exc(file=sys.stdout)
    print(f"stripe-python {stripe.VERSION}: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
