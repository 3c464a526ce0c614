-- Returns of approved orders (the return saga). An APPROVED order can be returned once: a return is REQUESTED, then
-- COMPLETED (the order becomes RETURNED, final) or CANCELLED (the saga compensated; the order stays APPROVED and may
-- be returned later under a new return id). The order's "return_id" is the semantic lock: at most one return per
-- order is in progress or completed. Races are decided by conditional single-statement writes (see
-- services/shared/request-functions.ts): the lock moves with UPDATE ... WHERE return_id IS NULL, the return's row is
-- inserted with ON CONFLICT DO NOTHING, its status moves with UPDATE ... WHERE status = 'REQUESTED'.

-- Used only by the functions below (late-bound), never in this migration's own transaction.
ALTER TYPE "OrderStatus" ADD VALUE 'RETURNED';

-- AlterTable
ALTER TABLE "orders" ADD COLUMN "return_id" TEXT,
ADD COLUMN "returned_at" TIMESTAMP(3);

-- CreateEnum
CREATE TYPE "ReturnStatus" AS ENUM ('REQUESTED', 'COMPLETED', 'CANCELLED');

-- CreateTable
CREATE TABLE "returns" (
    "id" TEXT NOT NULL,
    "order_id" TEXT,
    "status" "ReturnStatus" NOT NULL,
    "reason" TEXT,
    "cancel_reason" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "completed_at" TIMESTAMP(3),
    "cancelled_at" TIMESTAMP(3),

    CONSTRAINT "returns_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "returns_order_id_idx" ON "returns"("order_id");

-- AddForeignKey
ALTER TABLE "returns" ADD CONSTRAINT "returns_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The order as GET /orders/:orderId shows it, now with its return.
CREATE OR REPLACE FUNCTION "order_json"(p_order_id TEXT) RETURNS JSONB LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', o."id", 'customerId', o."customer_id", 'status', o."status", 'reason', o."reason",
    'createdAt', "json_time"(o."created_at"), 'updatedAt', "json_time"(o."updated_at"), 'approvedAt', "json_time"(o."approved_at"),
    'rejectedAt', "json_time"(o."rejected_at"), 'cancelledAt', "json_time"(o."cancelled_at"),
    'returnId', o."return_id", 'returnedAt', "json_time"(o."returned_at"),
    'lines', COALESCE((
      SELECT jsonb_agg(jsonb_build_object('orderId', l."order_id", 'sku', l."sku", 'quantity', l."quantity") ORDER BY l."sku")
      FROM "order_lines" l WHERE l."order_id" = o."id"), '[]'::jsonb))
  FROM "orders" o WHERE o."id" = p_order_id
$$;

-- As before, but a RETURNED order was approved: like APPROVED, it can no longer be rejected or cancelled.
CREATE OR REPLACE FUNCTION "orders_close"(p_key TEXT, p_operation TEXT, p_hash TEXT, p_order_id TEXT, p_status "OrderStatus", p_reason TEXT)
RETURNS "idempotent_response" LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, p_operation, p_hash);
  v_rejected TIMESTAMP(3) := CASE WHEN p_status = 'REJECTED' THEN "utc_now"() END;
  v_cancelled TIMESTAMP(3) := CASE WHEN p_status = 'CANCELLED' THEN "utc_now"() END;
  v_status "OrderStatus";
  v_noop BOOLEAN;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  LOOP
    -- The tombstone first: it waits for a create in flight, and a late create is then refused.
    INSERT INTO "orders" ("id", "status", "reason", "rejected_at", "cancelled_at", "created_at", "updated_at")
    VALUES (p_order_id, p_status, format('%s (%s before the order existed: no-op)', p_reason, lower(p_status::text)), v_rejected, v_cancelled,
      "utc_now"(), "utc_now"())
    ON CONFLICT ("id") DO NOTHING;
    IF FOUND THEN v_noop := TRUE; EXIT; END IF;
    UPDATE "orders" SET "status" = p_status, "reason" = p_reason, "rejected_at" = COALESCE(v_rejected, "rejected_at"),
      "cancelled_at" = COALESCE(v_cancelled, "cancelled_at"), "updated_at" = "utc_now"()
    WHERE "id" = p_order_id AND "status" = 'PENDING';
    IF FOUND THEN v_noop := FALSE; EXIT; END IF;
    SELECT "status" INTO v_status FROM "orders" WHERE "id" = p_order_id;
    -- No longer PENDING, so final: an approval cannot be undone, and a closed order stays as it was closed.
    IF v_status IN ('APPROVED', 'RETURNED') THEN
      PERFORM "http_error"(409, 'illegal_transition', format('order %s is %s and can no longer be %s', p_order_id, v_status, lower(p_status::text)),
        jsonb_build_object('status', v_status));
    END IF;
    IF v_status <> 'PENDING' THEN v_noop := TRUE; EXIT; END IF;
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "order_json"(p_order_id) || jsonb_build_object('noop', v_noop));
END $$;

CREATE FUNCTION "return_json"(p_return_id TEXT) RETURNS JSONB LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', r."id", 'orderId', r."order_id", 'status', r."status", 'reason', r."reason", 'cancelReason', r."cancel_reason",
    'createdAt', "json_time"(r."created_at"), 'updatedAt', "json_time"(r."updated_at"),
    'completedAt', "json_time"(r."completed_at"), 'cancelledAt', "json_time"(r."cancelled_at"),
    'orderStatus', (SELECT o."status" FROM "orders" o WHERE o."id" = r."order_id"))
  FROM "returns" r WHERE r."id" = p_return_id
$$;

-- Requests the return of an APPROVED order: takes the order's lock, then records the return REQUESTED.
CREATE FUNCTION "orders_request_return"(p_key TEXT, p_hash TEXT, p_return_id TEXT, p_order_id TEXT, p_reason TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'request-return', p_hash);
  v_order RECORD;
  v_existing RECORD;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  -- The lock: of two returns of one order exactly one moves it (the other re-reads the committed row and is refused).
  UPDATE "orders" SET "return_id" = p_return_id, "updated_at" = "utc_now"()
  WHERE "id" = p_order_id AND "status" = 'APPROVED' AND "return_id" IS NULL;
  IF NOT FOUND THEN
    SELECT "status", "return_id" INTO v_order FROM "orders" WHERE "id" = p_order_id;
    IF NOT FOUND THEN
      PERFORM "http_error"(404, 'unknown_order', format('unknown order: %s', p_order_id));
    END IF;
    IF v_order."return_id" = p_return_id AND v_order."status" = 'APPROVED' THEN
      PERFORM "http_error"(409, 'illegal_transition', format('return %s of order %s was already requested', p_return_id, p_order_id),
        jsonb_build_object('status', 'REQUESTED'));
    END IF;
    IF v_order."status" = 'RETURNED' THEN
      PERFORM "http_error"(409, 'already_returned', format('order %s was already returned (return %s)', p_order_id, v_order."return_id"),
        jsonb_build_object('status', v_order."status", 'returnId', v_order."return_id"));
    END IF;
    IF v_order."status" <> 'APPROVED' THEN
      PERFORM "http_error"(409, 'order_not_approved', format('order %s is %s; only an APPROVED order can be returned', p_order_id, v_order."status"),
        jsonb_build_object('status', v_order."status"));
    END IF;
    PERFORM "http_error"(409, 'return_in_progress', format('order %s already has return %s in progress', p_order_id, v_order."return_id"),
      jsonb_build_object('status', v_order."status", 'returnId', v_order."return_id"));
  END IF;
  -- One row per return id: a request after its cancellation's tombstone inserts nothing and is refused (the lock above
  -- is rolled back with it).
  INSERT INTO "returns" ("id", "order_id", "status", "reason", "created_at", "updated_at")
  VALUES (p_return_id, p_order_id, 'REQUESTED', p_reason, "utc_now"(), "utc_now"())
  ON CONFLICT ("id") DO NOTHING;
  IF NOT FOUND THEN
    SELECT "status", "order_id" INTO v_existing FROM "returns" WHERE "id" = p_return_id;
    PERFORM "http_error"(409, 'illegal_transition',
      format('return %s %s', p_return_id, CASE WHEN v_existing."order_id" IS NULL
        THEN 'was cancelled before it was requested'
        ELSE format('already exists for order %s in status %s', v_existing."order_id", v_existing."status") END),
      jsonb_build_object('status', v_existing."status"));
  END IF;
  RETURN "idempotency_store"(p_key, 201, "return_json"(p_return_id));
END $$;

-- Closes a REQUESTED return: COMPLETED, and its order RETURNED. Completing a COMPLETED return answers it unchanged.
CREATE FUNCTION "orders_complete_return"(p_key TEXT, p_hash TEXT, p_return_id TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'complete-return', p_hash);
  v_order_id TEXT;
  v_status "ReturnStatus";
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  LOOP
    UPDATE "returns" SET "status" = 'COMPLETED', "completed_at" = "utc_now"(), "updated_at" = "utc_now"()
    WHERE "id" = p_return_id AND "status" = 'REQUESTED'
    RETURNING "order_id" INTO v_order_id;
    IF FOUND THEN
      -- A REQUESTED return holds its APPROVED order's lock, so this always moves the order.
      UPDATE "orders" SET "status" = 'RETURNED', "returned_at" = "utc_now"(), "updated_at" = "utc_now"()
      WHERE "id" = v_order_id AND "return_id" = p_return_id AND "status" = 'APPROVED';
      EXIT;
    END IF;
    SELECT "status" INTO v_status FROM "returns" WHERE "id" = p_return_id;
    IF NOT FOUND THEN
      PERFORM "http_error"(404, 'unknown_return', format('unknown return: %s', p_return_id));
    END IF;
    EXIT WHEN v_status = 'COMPLETED';
    IF v_status <> 'REQUESTED' THEN
      PERFORM "http_error"(409, 'illegal_transition', format('return %s is %s; only a REQUESTED return can be completed', p_return_id, v_status),
        jsonb_build_object('status', v_status));
    END IF;
    -- REQUESTED: the return committed between the update and the read; decide again.
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "return_json"(p_return_id));
END $$;

-- Compensation of the request: the return CANCELLED, the order's lock released (the order stays APPROVED).
-- Cancelling a cancelled return changes nothing; cancelling one that was never requested records a tombstone and
-- succeeds (noop), so that a late request for that return id is refused. 409 once COMPLETED.
CREATE FUNCTION "orders_cancel_return"(p_key TEXT, p_hash TEXT, p_return_id TEXT, p_reason TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'cancel-return', p_hash);
  v_order_id TEXT;
  v_status "ReturnStatus";
  v_noop BOOLEAN;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  LOOP
    -- The tombstone first: it waits for a request in flight, and a late request is then refused.
    INSERT INTO "returns" ("id", "status", "cancel_reason", "cancelled_at", "created_at", "updated_at")
    VALUES (p_return_id, 'CANCELLED', p_reason || ' (cancelled before the return was requested: no-op)', "utc_now"(), "utc_now"(), "utc_now"())
    ON CONFLICT ("id") DO NOTHING;
    IF FOUND THEN v_noop := TRUE; EXIT; END IF;
    UPDATE "returns" SET "status" = 'CANCELLED', "cancel_reason" = p_reason, "cancelled_at" = "utc_now"(), "updated_at" = "utc_now"()
    WHERE "id" = p_return_id AND "status" = 'REQUESTED'
    RETURNING "order_id" INTO v_order_id;
    IF FOUND THEN
      UPDATE "orders" SET "return_id" = NULL, "updated_at" = "utc_now"()
      WHERE "id" = v_order_id AND "return_id" = p_return_id AND "status" = 'APPROVED';
      v_noop := FALSE;
      EXIT;
    END IF;
    SELECT "status" INTO v_status FROM "returns" WHERE "id" = p_return_id;
    IF v_status = 'CANCELLED' THEN v_noop := TRUE; EXIT; END IF;
    IF v_status = 'COMPLETED' THEN
      PERFORM "http_error"(409, 'illegal_transition', format('return %s is COMPLETED (the order is RETURNED) and can no longer be cancelled', p_return_id),
        jsonb_build_object('status', v_status));
    END IF;
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "return_json"(p_return_id) || jsonb_build_object('noop', v_noop));
END $$;
