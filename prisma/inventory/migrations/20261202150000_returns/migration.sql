-- Restocking a returned order (the return saga): the units a CONFIRMED reservation sold go back to available, and the
-- reservation becomes RETURNED (final), with the return's id. Races are decided by conditional single-statement
-- writes (see services/shared/request-functions.ts): the reservation moves with UPDATE ... WHERE status = 'CONFIRMED',
-- so its units are restocked exactly once, product rows in SKU order. For every product it still holds:
--   initial stock = available + held + sold.

-- Used only by the functions below (late-bound), never in this migration's own transaction.
ALTER TYPE "ReservationStatus" ADD VALUE 'RETURNED';

-- AlterTable
ALTER TABLE "reservations" ADD COLUMN "return_id" TEXT,
ADD COLUMN "returned_at" TIMESTAMP(3);

-- The reservation as GET /reservations/:orderId shows it, now with its return.
CREATE OR REPLACE FUNCTION "reservation_json"(p_order_id TEXT) RETURNS JSONB LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'orderId', r."order_id", 'status', r."status", 'totalCents', r."total_cents", 'reason', r."reason",
    'createdAt', "json_time"(r."created_at"), 'updatedAt', "json_time"(r."updated_at"),
    'confirmedAt', "json_time"(r."confirmed_at"), 'releasedAt', "json_time"(r."released_at"),
    'returnId', r."return_id", 'returnedAt', "json_time"(r."returned_at"),
    'lines', COALESCE((
      SELECT jsonb_agg(jsonb_build_object('orderId', l."order_id", 'sku', l."sku", 'quantity', l."quantity", 'unitPriceCents', l."unit_price_cents") ORDER BY l."sku")
      FROM "reservation_lines" l WHERE l."order_id" = r."order_id"), '[]'::jsonb))
  FROM "reservations" r WHERE r."order_id" = p_order_id
$$;

-- As before, but a RETURNED reservation, like a CONFIRMED one, can no longer be released.
CREATE OR REPLACE FUNCTION "inventory_release"(p_key TEXT, p_hash TEXT, p_order_id TEXT, p_reason TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'release', p_hash);
  v_status "ReservationStatus";
  v_noop BOOLEAN;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  LOOP
    -- The tombstone first: it waits for a reserve in flight, and a late reserve is then refused.
    INSERT INTO "reservations" ("order_id", "status", "reason", "released_at", "created_at", "updated_at")
    VALUES (p_order_id, 'RELEASED', p_reason || ' (released before any reservation existed: no-op)', "utc_now"(), "utc_now"(), "utc_now"())
    ON CONFLICT ("order_id") DO NOTHING;
    IF FOUND THEN v_noop := TRUE; EXIT; END IF;
    UPDATE "reservations" SET "status" = 'RELEASED', "reason" = p_reason, "released_at" = "utc_now"(), "updated_at" = "utc_now"()
    WHERE "order_id" = p_order_id AND "status" = 'PENDING';
    IF FOUND THEN
      PERFORM "inventory_move_held"(p_order_id, 'available');
      v_noop := FALSE;
      EXIT;
    END IF;
    SELECT "status" INTO v_status FROM "reservations" WHERE "order_id" = p_order_id;
    IF v_status = 'RELEASED' THEN v_noop := TRUE; EXIT; END IF;
    IF v_status IN ('CONFIRMED', 'RETURNED') THEN
      PERFORM "http_error"(409, 'illegal_transition', format('reservation for order %s is %s (sold) and can no longer be released', p_order_id, v_status));
    END IF;
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "reservation_json"(p_order_id) || jsonb_build_object('noop', v_noop));
END $$;

-- Puts a returned order's sold units back on the shelf: CONFIRMED → RETURNED, sold → available, product rows in SKU
-- order. Restocking again for the same return answers it unchanged; for another return it is refused.
CREATE FUNCTION "inventory_restock"(p_key TEXT, p_hash TEXT, p_order_id TEXT, p_return_id TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'restock', p_hash);
  v_existing RECORD;
  line RECORD;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  LOOP
    UPDATE "reservations" SET "status" = 'RETURNED', "return_id" = p_return_id, "returned_at" = "utc_now"(), "updated_at" = "utc_now"()
    WHERE "order_id" = p_order_id AND "status" = 'CONFIRMED';
    IF FOUND THEN
      FOR line IN SELECT "sku", "quantity" FROM "reservation_lines" WHERE "order_id" = p_order_id ORDER BY "sku" LOOP
        UPDATE "products" SET "sold" = "sold" - line."quantity", "available" = "available" + line."quantity", "updated_at" = "utc_now"()
        WHERE "sku" = line."sku";
      END LOOP;
      EXIT;
    END IF;
    SELECT "status", "return_id" INTO v_existing FROM "reservations" WHERE "order_id" = p_order_id;
    IF NOT FOUND THEN
      PERFORM "http_error"(404, 'unknown_reservation', format('no reservation for order %s', p_order_id));
    END IF;
    EXIT WHEN v_existing."status" = 'RETURNED' AND v_existing."return_id" = p_return_id;
    IF v_existing."status" = 'RETURNED' THEN
      PERFORM "http_error"(409, 'already_returned', format('the items of order %s were already restocked for return %s', p_order_id, v_existing."return_id"),
        jsonb_build_object('status', v_existing."status", 'returnId', v_existing."return_id"));
    END IF;
    IF v_existing."status" <> 'CONFIRMED' THEN
      PERFORM "http_error"(409, 'illegal_transition', format('reservation for order %s is %s; only CONFIRMED (sold) items can be restocked', p_order_id, v_existing."status"),
        jsonb_build_object('status', v_existing."status"));
    END IF;
    -- CONFIRMED: the reservation moved between the update and the read; decide again.
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "reservation_json"(p_order_id));
END $$;
