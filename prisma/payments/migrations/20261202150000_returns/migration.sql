-- Refunds of returned orders (the return saga's pivot). A refund gives a CHARGED payment's amount back to its customer
-- (the payment becomes REFUNDED) and records it by return id: REFUNDED, or VOIDED by the pivot's compensation (which
-- runs only when the refund's own outcome is unknown: it takes the money back, or leaves a tombstone). The payment's
-- status is the guard: of two refunds of one payment exactly one moves it. Races are decided by conditional
-- single-statement writes (see services/shared/request-functions.ts): the refund's row is inserted with ON CONFLICT DO
-- NOTHING, the payment moves with UPDATE ... WHERE status = 'CHARGED', money goes back out only with
-- UPDATE ... WHERE balance + credit >= amount. Rows in one order in every function: refunds, payments, customers.
-- For every customer it still holds: initial balance = balanceCents + sum(amountCents of its CHARGED payments).

-- CreateEnum
CREATE TYPE "RefundStatus" AS ENUM ('REFUNDED', 'VOIDED');

-- CreateTable
CREATE TABLE "refunds" (
    "return_id" TEXT NOT NULL,
    "order_id" TEXT,
    "customer_id" TEXT,
    "amount_cents" INTEGER NOT NULL DEFAULT 0,
    "status" "RefundStatus" NOT NULL,
    "reason" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "refunded_at" TIMESTAMP(3),
    "voided_at" TIMESTAMP(3),

    CONSTRAINT "refunds_pkey" PRIMARY KEY ("return_id")
);

-- CreateIndex
CREATE INDEX "refunds_order_id_idx" ON "refunds"("order_id");

-- CreateIndex
CREATE INDEX "refunds_customer_id_idx" ON "refunds"("customer_id");

-- AddForeignKey
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE FUNCTION "refund_json"(p_return_id TEXT) RETURNS JSONB LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'returnId', r."return_id", 'orderId', r."order_id", 'customerId', r."customer_id", 'amountCents', r."amount_cents",
    'status', r."status", 'reason', r."reason", 'createdAt', "json_time"(r."created_at"), 'updatedAt', "json_time"(r."updated_at"),
    'refundedAt', "json_time"(r."refunded_at"), 'voidedAt', "json_time"(r."voided_at"))
  FROM "refunds" r WHERE r."return_id" = p_return_id
$$;

-- Refunds a returned order's CHARGED payment in full.
CREATE FUNCTION "payments_refund_return"(p_key TEXT, p_hash TEXT, p_return_id TEXT, p_order_id TEXT, p_reason TEXT) RETURNS "idempotent_response"
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
  UPDATE "customers" SET "balance_cents" = "balance_cents" + v_paid."amount_cents", "updated_at" = "utc_now"()
  WHERE "id" = v_paid."customer_id";
  RETURN "idempotency_store"(p_key, 201, "refund_json"(p_return_id));
END $$;

-- Compensation of the refund, for when its outcome is unknown: a refund that happened is taken back (the payment is
-- CHARGED again; 422 if the customer no longer has the money: an operator decides), one that did not is recorded as a
-- tombstone (noop), so that a late refund for that return is refused. Voiding a VOIDED refund changes nothing.
CREATE FUNCTION "payments_void_refund"(p_key TEXT, p_hash TEXT, p_return_id TEXT, p_reason TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'void-refund', p_hash);
  v_refund RECORD;
  v_available BIGINT;
  v_noop BOOLEAN;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  LOOP
    -- The tombstone first: it waits for a refund in flight, and a late refund is then refused.
    INSERT INTO "refunds" ("return_id", "status", "reason", "voided_at", "created_at", "updated_at")
    VALUES (p_return_id, 'VOIDED', p_reason || ' (voided before any refund: no-op)', "utc_now"(), "utc_now"(), "utc_now"())
    ON CONFLICT ("return_id") DO NOTHING;
    IF FOUND THEN v_noop := TRUE; EXIT; END IF;
    UPDATE "refunds" SET "status" = 'VOIDED', "reason" = p_reason, "voided_at" = "utc_now"(), "updated_at" = "utc_now"()
    WHERE "return_id" = p_return_id AND "status" = 'REFUNDED'
    RETURNING "order_id", "customer_id", "amount_cents" INTO v_refund;
    IF FOUND THEN
      UPDATE "payments" SET "status" = 'CHARGED', "reason" = 'refund voided: ' || p_reason, "refunded_at" = NULL, "updated_at" = "utc_now"()
      WHERE "order_id" = v_refund."order_id" AND "status" = 'REFUNDED';
      UPDATE "customers" SET "balance_cents" = "balance_cents" - v_refund."amount_cents", "updated_at" = "utc_now"()
      WHERE "id" = v_refund."customer_id" AND "balance_cents"::bigint + "credit_limit_cents" >= v_refund."amount_cents";
      IF NOT FOUND THEN
        SELECT "balance_cents"::bigint + "credit_limit_cents" INTO v_available FROM "customers" WHERE "id" = v_refund."customer_id";
        PERFORM "http_error"(422, 'insufficient_funds',
          format('the refund of return %s cannot be taken back: %s cents refunded, %s cents available (balance plus credit)', p_return_id,
            v_refund."amount_cents", v_available),
          jsonb_build_object('customerId', v_refund."customer_id", 'requested', v_refund."amount_cents", 'available', v_available));
      END IF;
      v_noop := FALSE;
      EXIT;
    END IF;
    -- Not REFUNDED, so VOIDED (the only other status): nothing to do.
    IF EXISTS (SELECT 1 FROM "refunds" WHERE "return_id" = p_return_id AND "status" = 'VOIDED') THEN v_noop := TRUE; EXIT; END IF;
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "refund_json"(p_return_id) || jsonb_build_object('noop', v_noop));
END $$;
