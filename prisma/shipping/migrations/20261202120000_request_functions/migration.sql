-- One round trip per mutating request (see services/shared/request-functions.ts).
-- Every mutating request is one call of a plpgsql function: it answers a replay from the stored record, or claims the
-- Idempotency-Key, makes the business change, writes the status row and stores the response, all in the one
-- statement's transaction. A business answer (4xx) is raised as SQLSTATE 'SG' || <HTTP status> and rolls the whole
-- statement back, the claim included, so a rejected request writes nothing. This block is the same in every service.

CREATE TYPE "idempotent_response" AS ("status_code" INTEGER, "body" JSONB, "replayed" BOOLEAN);

-- Ends the request with a business answer: the message, and {code, details} as JSON in the error's DETAIL.
CREATE FUNCTION "http_error"(p_status INTEGER, p_code TEXT, p_message TEXT, p_details JSONB DEFAULT NULL) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'SG' || p_status, MESSAGE = p_message,
    DETAIL = jsonb_strip_nulls(jsonb_build_object('code', p_code, 'details', p_details))::text;
END $$;

-- Timestamps as Prisma writes them (UTC, milliseconds) and as JSON.stringify shows a Date.
CREATE FUNCTION "utc_now"() RETURNS TIMESTAMP(3) LANGUAGE sql STABLE AS $$ SELECT (now() AT TIME ZONE 'UTC')::timestamp(3) $$;
CREATE FUNCTION "json_time"(t TIMESTAMP) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$ SELECT to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- The stored answer to an earlier request with this key (replayed), or NULL once the key is claimed for this one. A
-- concurrent request with the same key waits on the primary key until the first commits, then reads its answer.
CREATE FUNCTION "idempotency_claim"(p_key TEXT, p_operation TEXT, p_hash TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotency_records";
BEGIN
  LOOP
    SELECT * INTO earlier FROM "idempotency_records" WHERE "key" = p_key;
    IF FOUND THEN
      IF earlier."operation" <> p_operation OR earlier."request_hash" <> p_hash THEN
        PERFORM "http_error"(422, 'idempotency_key_reused',
          format('Idempotency-Key was already used for a different request (%s); use a new key for a new request', earlier."operation"));
      END IF;
      RETURN ROW(earlier."status_code", earlier."response_body", TRUE)::"idempotent_response";
    END IF;
    INSERT INTO "idempotency_records" ("key", "operation", "request_hash", "status_code", "response_body", "created_at")
    VALUES (p_key, p_operation, p_hash, 0, 'null'::jsonb, "utc_now"())
    ON CONFLICT ("key") DO NOTHING;
    IF FOUND THEN
      RETURN NULL;
    END IF;
    -- A concurrent request with this key committed first: read its answer.
  END LOOP;
END $$;

-- Stores the response of the request that claimed the key, and answers it.
CREATE FUNCTION "idempotency_store"(p_key TEXT, p_status INTEGER, p_body JSONB) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "idempotency_records" SET "status_code" = p_status, "response_body" = p_body WHERE "key" = p_key;
  RETURN ROW(p_status, p_body, FALSE)::"idempotent_response";
END $$;

-- Shipping's requests. Races are decided by conditional single-statement writes (see request-functions.ts): the
-- shipment row is inserted with ON CONFLICT DO NOTHING, its status moves with UPDATE ... WHERE status = 'PENDING'.

CREATE FUNCTION "shipment_json"(p_order_id TEXT) RETURNS JSONB LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'orderId', s."order_id", 'recipient', s."recipient", 'line1', s."line1", 'city', s."city", 'postalCode', s."postal_code",
    'country', s."country", 'status', s."status", 'trackingNumber', s."tracking_number", 'reason', s."reason",
    'createdAt', "json_time"(s."created_at"), 'updatedAt', "json_time"(s."updated_at"),
    'confirmedAt', "json_time"(s."confirmed_at"), 'cancelledAt', "json_time"(s."cancelled_at"))
  FROM "shipments" s WHERE s."order_id" = p_order_id
$$;

CREATE FUNCTION "shipping_schedule"(p_key TEXT, p_hash TEXT, p_order_id TEXT, p_destination JSONB) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'schedule', p_hash);
  v_existing "ShipmentStatus";
  v_country TEXT := p_destination->>'country';
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  -- One shipment per order: a second schedule for the order (another key), or one after its cancellation's tombstone,
  -- inserts nothing (after waiting for a concurrent insert to commit) and is refused.
  INSERT INTO "shipments" ("order_id", "recipient", "line1", "city", "postal_code", "country", "status", "created_at", "updated_at")
  VALUES (p_order_id, p_destination->>'recipient', p_destination->>'line1', p_destination->>'city', p_destination->>'postalCode',
    v_country, 'PENDING', "utc_now"(), "utc_now"())
  ON CONFLICT ("order_id") DO NOTHING;
  IF NOT FOUND THEN
    SELECT "status" INTO v_existing FROM "shipments" WHERE "order_id" = p_order_id;
    PERFORM "http_error"(409, 'illegal_transition', format('order %s already has a shipment in status %s', p_order_id, v_existing),
      jsonb_build_object('status', v_existing));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM "service_areas" a WHERE a."country" = v_country) THEN
    PERFORM "http_error"(422, 'undeliverable_destination', format('undeliverable destination: we do not ship to country %s', v_country),
      jsonb_build_object('country', v_country));
  END IF;
  RETURN "idempotency_store"(p_key, 201, "shipment_json"(p_order_id));
END $$;

-- Hands the shipment to the carrier. Confirming a CONFIRMED shipment answers it unchanged (same tracking number).
CREATE FUNCTION "shipping_confirm"(p_key TEXT, p_hash TEXT, p_order_id TEXT, p_tracking_number TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'confirm', p_hash);
  v_status "ShipmentStatus";
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  LOOP
    UPDATE "shipments" SET "status" = 'CONFIRMED', "tracking_number" = p_tracking_number, "confirmed_at" = "utc_now"(), "updated_at" = "utc_now"()
    WHERE "order_id" = p_order_id AND "status" = 'PENDING';
    EXIT WHEN FOUND;
    SELECT "status" INTO v_status FROM "shipments" WHERE "order_id" = p_order_id;
    IF NOT FOUND THEN
      PERFORM "http_error"(404, 'unknown_shipment', format('no shipment for order %s', p_order_id));
    END IF;
    EXIT WHEN v_status = 'CONFIRMED';
    IF v_status <> 'PENDING' THEN
      PERFORM "http_error"(409, 'illegal_transition', format('shipment for order %s is %s; only PENDING can be confirmed', p_order_id, v_status));
    END IF;
    -- PENDING: the shipment committed between the update and the read; decide again.
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "shipment_json"(p_order_id));
END $$;

-- Compensation of schedule. Cancelling nothing records a tombstone and succeeds.
CREATE FUNCTION "shipping_cancel"(p_key TEXT, p_hash TEXT, p_order_id TEXT, p_reason TEXT) RETURNS "idempotent_response"
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
    IF v_status = 'CONFIRMED' THEN
      PERFORM "http_error"(409, 'illegal_transition', format('shipment for order %s is CONFIRMED (handed to the carrier) and can no longer be cancelled', p_order_id));
    END IF;
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "shipment_json"(p_order_id) || jsonb_build_object('noop', v_noop));
END $$;
