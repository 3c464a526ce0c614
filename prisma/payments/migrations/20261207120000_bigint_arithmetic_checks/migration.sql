-- Money arithmetic that cannot overflow, and CHECK constraints behind the zod bounds (services/shared/fields.ts). The
-- columns stay INTEGER (Prisma maps them to JS numbers, JSON-safe): what does not fit is refused, as a business
-- answer, before anything is written.
--
-- A refund adds the payment's amount back to the balance. A balance topped up outside the services after the charge
-- (an operator's deposit, infra/postgres/top-up.ts) plus the refund could exceed INTEGER: SQLSTATE 22003, which the
-- error contract answers 500, so the saga retried the compensation as transient until it dead-lettered it. The sum is
-- now checked in bigint first and a balance that would not fit is refused: 422 amount_too_large, nothing written (the
-- order saga records the compensation for an operator at once; the return saga compensates before its pivot).
-- A charge and a void take money out only down to -credit_limit_cents (their guards, already in bigint), so they
-- cannot overflow.

-- A tombstone (a refund or void before anything existed) has no customer and an amount of 0; anything else moved
-- money, a positive amount.
ALTER TABLE "payments"
  ADD CONSTRAINT "payments_amount_cents_positive" CHECK ("amount_cents" > 0 OR ("customer_id" IS NULL AND "amount_cents" = 0));
ALTER TABLE "refunds"
  ADD CONSTRAINT "refunds_amount_cents_positive" CHECK ("amount_cents" > 0 OR ("customer_id" IS NULL AND "amount_cents" = 0));

-- A balance may go negative down to -credit_limit_cents and no further (the guard of every charge and void).
ALTER TABLE "customers"
  ADD CONSTRAINT "customers_credit_limit_cents_not_negative" CHECK ("credit_limit_cents" >= 0),
  ADD CONSTRAINT "customers_within_credit_limit" CHECK ("balance_cents"::bigint + "credit_limit_cents" >= 0);

-- Gives an amount back to a customer's balance, or refuses (422 amount_too_large) when the balance would exceed
-- INTEGER: the most an account can hold.
CREATE FUNCTION "customers_give_back"(p_customer_id TEXT, p_amount_cents INTEGER) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
  v_balance INTEGER;
BEGIN
  UPDATE "customers" SET "balance_cents" = "balance_cents" + p_amount_cents, "updated_at" = "utc_now"()
  WHERE "id" = p_customer_id AND "balance_cents"::bigint + p_amount_cents <= 2147483647;
  IF NOT FOUND THEN
    SELECT "balance_cents" INTO v_balance FROM "customers" WHERE "id" = p_customer_id;
    PERFORM "http_error"(422, 'amount_too_large',
      format('%s cents cannot be given back to %s: the balance of %s cents would exceed %s cents, the most an account can hold',
        p_amount_cents, p_customer_id, v_balance, 2147483647),
      jsonb_build_object('customerId', p_customer_id, 'balanceCents', v_balance, 'amountCents', p_amount_cents,
        'maxBalanceCents', 2147483647));
  END IF;
END $$;

-- As before (20261202120000_request_functions), the money given back through customers_give_back.
CREATE OR REPLACE FUNCTION "payments_refund"(p_key TEXT, p_hash TEXT, p_order_id TEXT, p_reason TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'refund', p_hash);
  refunded RECORD;
  v_noop BOOLEAN := TRUE;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  -- The tombstone first: it waits for a charge in flight, and a late charge is then refused.
  INSERT INTO "payments" ("order_id", "status", "reason", "refunded_at", "created_at", "updated_at")
  VALUES (p_order_id, 'CANCELLED', p_reason || ' (refunded before any charge: no-op)', "utc_now"(), "utc_now"(), "utc_now"())
  ON CONFLICT ("order_id") DO NOTHING;
  IF NOT FOUND THEN
    -- A payment exists: only a CHARGED one has money to give back; REFUNDED and CANCELLED are final.
    UPDATE "payments" SET "status" = 'REFUNDED', "reason" = p_reason, "refunded_at" = "utc_now"(), "updated_at" = "utc_now"()
    WHERE "order_id" = p_order_id AND "status" = 'CHARGED'
    RETURNING "customer_id", "amount_cents" INTO refunded;
    IF FOUND THEN
      PERFORM "customers_give_back"(refunded."customer_id", refunded."amount_cents");
      v_noop := FALSE;
    END IF;
  END IF;
  RETURN "idempotency_store"(p_key, 200, "payment_json"(p_order_id) || jsonb_build_object('noop', v_noop));
END $$;

-- As before (20261202150000_returns), the money given back through customers_give_back.
CREATE OR REPLACE FUNCTION "payments_refund_return"(p_key TEXT, p_hash TEXT, p_return_id TEXT, p_order_id TEXT, p_reason TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'refund-return', p_hash);
  v_existing RECORD;
  v_payment "PaymentStatus";
  v_paid RECORD;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  -- One refund per return id, with the payment's customer and amount: a second request for the return (another key),
  -- or one after its void's tombstone, inserts nothing (after waiting for a concurrent insert to commit) and is refused.
  INSERT INTO "refunds" ("return_id", "order_id", "customer_id", "amount_cents", "status", "reason", "refunded_at", "created_at", "updated_at")
  SELECT p_return_id, p."order_id", p."customer_id", p."amount_cents", 'REFUNDED', p_reason, "utc_now"(), "utc_now"(), "utc_now"()
  FROM "payments" p WHERE p."order_id" = p_order_id AND p."status" = 'CHARGED'
  ON CONFLICT ("return_id") DO NOTHING;
  IF NOT FOUND THEN
    SELECT "status", "order_id" INTO v_existing FROM "refunds" WHERE "return_id" = p_return_id;
    IF FOUND THEN
      PERFORM "http_error"(409, 'illegal_transition',
        format('return %s %s', p_return_id, CASE WHEN v_existing."order_id" IS NULL
          THEN 'was voided before it was refunded'
          ELSE format('already has a refund in status %s', v_existing."status") END),
        jsonb_build_object('status', v_existing."status"));
    END IF;
    SELECT "status" INTO v_payment FROM "payments" WHERE "order_id" = p_order_id;
    IF NOT FOUND THEN
      PERFORM "http_error"(404, 'unknown_payment', format('no payment for order %s', p_order_id));
    END IF;
    PERFORM "http_error"(409, 'already_refunded',
      format('the payment for order %s is %s; only a CHARGED payment can be refunded', p_order_id, v_payment),
      jsonb_build_object('status', v_payment));
  END IF;
  -- The guard: of two refunds of one payment exactly one moves it; the other is refused and rolls its row back.
  UPDATE "payments" SET "status" = 'REFUNDED', "reason" = p_reason, "refunded_at" = "utc_now"(), "updated_at" = "utc_now"()
  WHERE "order_id" = p_order_id AND "status" = 'CHARGED'
  RETURNING "customer_id", "amount_cents" INTO v_paid;
  IF NOT FOUND THEN
    PERFORM "http_error"(409, 'already_refunded', format('the payment for order %s was refunded meanwhile', p_order_id),
      jsonb_build_object('status', 'REFUNDED'));
  END IF;
  PERFORM "customers_give_back"(v_paid."customer_id", v_paid."amount_cents");
  RETURN "idempotency_store"(p_key, 201, "refund_json"(p_return_id));
END $$;
