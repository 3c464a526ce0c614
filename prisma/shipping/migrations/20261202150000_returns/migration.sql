-- Delivery and return pickups (the return saga). The carrier reports a CONFIRMED shipment DELIVERED (with the time
-- of delivery); within the return window (30 days from delivery) a return pickup can be booked at the shipment's
-- address: BOOKED, or CANCELLED by the saga's compensation. The shipment's "return_id" is the semantic lock: at most
-- one pickup per shipment is booked. Races are decided by conditional single-statement writes (see
-- services/shared/request-functions.ts): the lock moves with UPDATE ... WHERE return_id IS NULL, the pickup's row is
-- inserted with ON CONFLICT DO NOTHING, its status moves with UPDATE ... WHERE status = 'BOOKED'.

-- Used only by the functions below (late-bound), never in this migration's own transaction.
ALTER TYPE "ShipmentStatus" ADD VALUE 'DELIVERED';

-- AlterTable
ALTER TABLE "shipments" ADD COLUMN "delivered_at" TIMESTAMP(3),
ADD COLUMN "return_id" TEXT;

-- CreateEnum
CREATE TYPE "ReturnPickupStatus" AS ENUM ('BOOKED', 'CANCELLED');

-- CreateTable
CREATE TABLE "return_pickups" (
    "return_id" TEXT NOT NULL,
    "order_id" TEXT,
    "recipient" TEXT,
    "line1" TEXT,
    "city" TEXT,
    "postal_code" TEXT,
    "country" TEXT,
    "status" "ReturnPickupStatus" NOT NULL,
    "reason" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "booked_at" TIMESTAMP(3),
    "cancelled_at" TIMESTAMP(3),

    CONSTRAINT "return_pickups_pkey" PRIMARY KEY ("return_id")
);

-- CreateIndex
CREATE INDEX "return_pickups_order_id_idx" ON "return_pickups"("order_id");

-- How long after delivery a return pickup can still be booked: the one place the window is written.
CREATE FUNCTION "return_window"() RETURNS INTERVAL LANGUAGE sql IMMUTABLE AS $$ SELECT INTERVAL '30 days' $$;

-- The shipment as GET /shipments/:orderId shows it, now with its delivery and return.
CREATE OR REPLACE FUNCTION "shipment_json"(p_order_id TEXT) RETURNS JSONB LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'orderId', s."order_id", 'recipient', s."recipient", 'line1', s."line1", 'city', s."city", 'postalCode', s."postal_code",
    'country', s."country", 'status', s."status", 'trackingNumber', s."tracking_number", 'reason', s."reason",
    'createdAt', "json_time"(s."created_at"), 'updatedAt', "json_time"(s."updated_at"),
    'confirmedAt', "json_time"(s."confirmed_at"), 'cancelledAt', "json_time"(s."cancelled_at"),
    'deliveredAt', "json_time"(s."delivered_at"), 'returnId', s."return_id")
  FROM "shipments" s WHERE s."order_id" = p_order_id
$$;

-- As before, but a DELIVERED shipment, like a CONFIRMED one, can no longer be cancelled.
CREATE OR REPLACE FUNCTION "shipping_cancel"(p_key TEXT, p_hash TEXT, p_order_id TEXT, p_reason TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'cancel', p_hash);
  v_status "ShipmentStatus";
  v_noop BOOLEAN;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  LOOP
    -- The tombstone first: it waits for a schedule in flight, and a late schedule is then refused.
    INSERT INTO "shipments" ("order_id", "status", "reason", "cancelled_at", "created_at", "updated_at")
    VALUES (p_order_id, 'CANCELLED', p_reason || ' (cancelled before any shipment existed: no-op)', "utc_now"(), "utc_now"(), "utc_now"())
    ON CONFLICT ("order_id") DO NOTHING;
    IF FOUND THEN v_noop := TRUE; EXIT; END IF;
    UPDATE "shipments" SET "status" = 'CANCELLED', "reason" = p_reason, "cancelled_at" = "utc_now"(), "updated_at" = "utc_now"()
    WHERE "order_id" = p_order_id AND "status" = 'PENDING';
    IF FOUND THEN v_noop := FALSE; EXIT; END IF;
    SELECT "status" INTO v_status FROM "shipments" WHERE "order_id" = p_order_id;
    IF v_status = 'CANCELLED' THEN v_noop := TRUE; EXIT; END IF;
    IF v_status IN ('CONFIRMED', 'DELIVERED') THEN
      PERFORM "http_error"(409, 'illegal_transition', format('shipment for order %s is %s (handed to the carrier) and can no longer be cancelled', p_order_id, v_status));
    END IF;
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "shipment_json"(p_order_id) || jsonb_build_object('noop', v_noop));
END $$;

-- The carrier's delivery report: CONFIRMED → DELIVERED at p_delivered_at (now when NULL). Delivering a DELIVERED
-- shipment answers it unchanged (the first time of delivery stays).
CREATE FUNCTION "shipping_deliver"(p_key TEXT, p_hash TEXT, p_order_id TEXT, p_delivered_at TIMESTAMP(3)) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'deliver', p_hash);
  v_status "ShipmentStatus";
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  LOOP
    UPDATE "shipments" SET "status" = 'DELIVERED', "delivered_at" = COALESCE(p_delivered_at, "utc_now"()), "updated_at" = "utc_now"()
    WHERE "order_id" = p_order_id AND "status" = 'CONFIRMED';
    EXIT WHEN FOUND;
    SELECT "status" INTO v_status FROM "shipments" WHERE "order_id" = p_order_id;
    IF NOT FOUND THEN
      PERFORM "http_error"(404, 'unknown_shipment', format('no shipment for order %s', p_order_id));
    END IF;
    EXIT WHEN v_status = 'DELIVERED';
    IF v_status <> 'CONFIRMED' THEN
      PERFORM "http_error"(409, 'illegal_transition', format('shipment for order %s is %s; only a CONFIRMED shipment can be delivered', p_order_id, v_status),
        jsonb_build_object('status', v_status));
    END IF;
    -- CONFIRMED: the shipment moved between the update and the read; decide again.
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "shipment_json"(p_order_id));
END $$;

CREATE FUNCTION "return_pickup_json"(p_return_id TEXT) RETURNS JSONB LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'returnId', p."return_id", 'orderId', p."order_id", 'recipient', p."recipient", 'line1', p."line1", 'city', p."city",
    'postalCode', p."postal_code", 'country', p."country", 'status', p."status", 'reason', p."reason",
    'createdAt', "json_time"(p."created_at"), 'updatedAt', "json_time"(p."updated_at"),
    'bookedAt', "json_time"(p."booked_at"), 'cancelledAt', "json_time"(p."cancelled_at"))
  FROM "return_pickups" p WHERE p."return_id" = p_return_id
$$;

-- Books a return pickup at the shipment's address: the shipment must be DELIVERED, within the return window, and
-- have no other pickup booked.
CREATE FUNCTION "shipping_book_return_pickup"(p_key TEXT, p_hash TEXT, p_return_id TEXT, p_order_id TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'book-return-pickup', p_hash);
  v_shipment RECORD;
  v_existing RECORD;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  -- The lock, with every precondition in its WHERE clause: of two bookings for one shipment exactly one moves it.
  UPDATE "shipments" SET "return_id" = p_return_id, "updated_at" = "utc_now"()
  WHERE "order_id" = p_order_id AND "status" = 'DELIVERED' AND "return_id" IS NULL AND "delivered_at" >= "utc_now"() - "return_window"()
  RETURNING "recipient", "line1", "city", "postal_code", "country" INTO v_shipment;
  IF NOT FOUND THEN
    SELECT "status", "return_id", "delivered_at" INTO v_existing FROM "shipments" WHERE "order_id" = p_order_id;
    IF NOT FOUND THEN
      PERFORM "http_error"(404, 'unknown_shipment', format('no shipment for order %s', p_order_id));
    END IF;
    IF v_existing."status" <> 'DELIVERED' THEN
      PERFORM "http_error"(409, 'not_delivered', format('the shipment for order %s is %s, not yet delivered: there is nothing to pick up', p_order_id, v_existing."status"),
        jsonb_build_object('status', v_existing."status"));
    END IF;
    IF v_existing."return_id" = p_return_id THEN
      PERFORM "http_error"(409, 'illegal_transition', format('a pickup for return %s is already booked', p_return_id),
        jsonb_build_object('status', 'BOOKED'));
    END IF;
    IF v_existing."return_id" IS NOT NULL THEN
      PERFORM "http_error"(409, 'return_in_progress', format('order %s already has a pickup booked for return %s', p_order_id, v_existing."return_id"),
        jsonb_build_object('returnId', v_existing."return_id"));
    END IF;
    PERFORM "http_error"(422, 'return_window_passed',
      format('order %s was delivered at %s; its return window of %s ended at %s', p_order_id, "json_time"(v_existing."delivered_at"),
        "return_window"(), "json_time"(v_existing."delivered_at" + "return_window"())),
      jsonb_build_object('deliveredAt', "json_time"(v_existing."delivered_at"), 'windowEndedAt', "json_time"(v_existing."delivered_at" + "return_window"())));
  END IF;
  -- One row per return id: a booking after its cancellation's tombstone inserts nothing and is refused (the lock above
  -- is rolled back with it).
  INSERT INTO "return_pickups" ("return_id", "order_id", "recipient", "line1", "city", "postal_code", "country", "status", "booked_at", "created_at", "updated_at")
  VALUES (p_return_id, p_order_id, v_shipment."recipient", v_shipment."line1", v_shipment."city", v_shipment."postal_code", v_shipment."country",
    'BOOKED', "utc_now"(), "utc_now"(), "utc_now"())
  ON CONFLICT ("return_id") DO NOTHING;
  IF NOT FOUND THEN
    SELECT "status", "order_id" INTO v_existing FROM "return_pickups" WHERE "return_id" = p_return_id;
    PERFORM "http_error"(409, 'illegal_transition',
      format('the pickup for return %s %s', p_return_id, CASE WHEN v_existing."order_id" IS NULL
        THEN 'was cancelled before it was booked'
        ELSE format('already exists for order %s in status %s', v_existing."order_id", v_existing."status") END),
      jsonb_build_object('status', v_existing."status"));
  END IF;
  RETURN "idempotency_store"(p_key, 201, "return_pickup_json"(p_return_id));
END $$;

-- Compensation of the booking: CANCELLED, and the shipment's lock released. Cancelling nothing records a tombstone
-- and succeeds (noop), so that a late booking for that return id is refused.
CREATE FUNCTION "shipping_cancel_return_pickup"(p_key TEXT, p_hash TEXT, p_return_id TEXT, p_reason TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'cancel-return-pickup', p_hash);
  v_order_id TEXT;
  v_noop BOOLEAN;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  LOOP
    -- The tombstone first: it waits for a booking in flight, and a late booking is then refused.
    INSERT INTO "return_pickups" ("return_id", "status", "reason", "cancelled_at", "created_at", "updated_at")
    VALUES (p_return_id, 'CANCELLED', p_reason || ' (cancelled before any pickup was booked: no-op)', "utc_now"(), "utc_now"(), "utc_now"())
    ON CONFLICT ("return_id") DO NOTHING;
    IF FOUND THEN v_noop := TRUE; EXIT; END IF;
    UPDATE "return_pickups" SET "status" = 'CANCELLED', "reason" = p_reason, "cancelled_at" = "utc_now"(), "updated_at" = "utc_now"()
    WHERE "return_id" = p_return_id AND "status" = 'BOOKED'
    RETURNING "order_id" INTO v_order_id;
    IF FOUND THEN
      UPDATE "shipments" SET "return_id" = NULL, "updated_at" = "utc_now"() WHERE "order_id" = v_order_id AND "return_id" = p_return_id;
      v_noop := FALSE;
      EXIT;
    END IF;
    -- Not BOOKED, so CANCELLED (the only other status): nothing to do.
    IF EXISTS (SELECT 1 FROM "return_pickups" WHERE "return_id" = p_return_id AND "status" = 'CANCELLED') THEN v_noop := TRUE; EXIT; END IF;
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "return_pickup_json"(p_return_id) || jsonb_build_object('noop', v_noop));
END $$;
