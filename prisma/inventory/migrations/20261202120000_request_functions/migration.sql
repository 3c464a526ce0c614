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

-- Inventory's requests. Races are decided by conditional single-statement writes (see request-functions.ts): the
-- reservation row is inserted with ON CONFLICT DO NOTHING, its status moves with UPDATE ... WHERE status = 'PENDING',
-- stock moves with UPDATE ... WHERE available >= quantity, product rows always in SKU order (no deadlocks).

CREATE FUNCTION "reservation_json"(p_order_id TEXT) RETURNS JSONB LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'orderId', r."order_id", 'status', r."status", 'totalCents', r."total_cents", 'reason', r."reason",
    'createdAt', "json_time"(r."created_at"), 'updatedAt', "json_time"(r."updated_at"),
    'confirmedAt', "json_time"(r."confirmed_at"), 'releasedAt', "json_time"(r."released_at"),
    'lines', COALESCE((
      SELECT jsonb_agg(jsonb_build_object('orderId', l."order_id", 'sku', l."sku", 'quantity', l."quantity", 'unitPriceCents', l."unit_price_cents") ORDER BY l."sku")
      FROM "reservation_lines" l WHERE l."order_id" = r."order_id"), '[]'::jsonb))
  FROM "reservations" r WHERE r."order_id" = p_order_id
$$;

-- Moves a reservation's units between stock counters (held → sold, held → available), product rows in SKU order.
CREATE FUNCTION "inventory_move_held"(p_order_id TEXT, p_to TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
  line RECORD;
BEGIN
  FOR line IN SELECT "sku", "quantity" FROM "reservation_lines" WHERE "order_id" = p_order_id ORDER BY "sku" LOOP
    UPDATE "products"
    SET "held" = "held" - line."quantity",
        "sold" = "sold" + CASE WHEN p_to = 'sold' THEN line."quantity" ELSE 0 END,
        "available" = "available" + CASE WHEN p_to = 'available' THEN line."quantity" ELSE 0 END,
        "updated_at" = "utc_now"()
    WHERE "sku" = line."sku";
  END LOOP;
END $$;

CREATE FUNCTION "inventory_reserve"(p_key TEXT, p_hash TEXT, p_order_id TEXT, p_items JSONB) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'reserve', p_hash);
  v_unknown TEXT;
  total INTEGER;
  v_existing "ReservationStatus";
  item RECORD;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  SELECT string_agg(i."sku", ', ' ORDER BY i."n") FILTER (WHERE p."sku" IS NULL), COALESCE(sum(i."quantity" * p."price_cents"), 0)
  INTO v_unknown, total
  FROM ROWS FROM (jsonb_to_recordset(p_items) AS ("sku" TEXT, "quantity" INTEGER)) WITH ORDINALITY AS i("sku", "quantity", "n")
  LEFT JOIN "products" p ON p."sku" = i."sku";

  -- One reservation per order: a second request for the order (another key), or one after its release's tombstone,
  -- inserts nothing (after waiting for a concurrent insert to commit) and is refused.
  INSERT INTO "reservations" ("order_id", "status", "total_cents", "created_at", "updated_at")
  VALUES (p_order_id, 'PENDING', total, "utc_now"(), "utc_now"())
  ON CONFLICT ("order_id") DO NOTHING;
  IF NOT FOUND THEN
    SELECT "status" INTO v_existing FROM "reservations" WHERE "order_id" = p_order_id;
    PERFORM "http_error"(409, 'illegal_transition', format('order %s already has a reservation in status %s', p_order_id, v_existing),
      jsonb_build_object('status', v_existing));
  END IF;
  IF v_unknown IS NOT NULL THEN
    PERFORM "http_error"(404, 'unknown_sku', 'unknown SKU: ' || v_unknown);
  END IF;

  -- The row lock plus the re-checked predicate make "the last unit" go to exactly one request.
  FOR item IN SELECT * FROM jsonb_to_recordset(p_items) AS i("sku" TEXT, "quantity" INTEGER) ORDER BY i."sku" LOOP
    UPDATE "products"
    SET "available" = "available" - item."quantity", "held" = "held" + item."quantity", "updated_at" = "utc_now"()
    WHERE "sku" = item."sku" AND "available" >= item."quantity";
    IF NOT FOUND THEN
      PERFORM "http_error"(422, 'insufficient_stock',
        format('insufficient stock for %s: %s requested, %s available', item."sku", item."quantity", p."available"),
        jsonb_build_object('sku', item."sku", 'requested', item."quantity", 'available', p."available"))
      FROM "products" p WHERE p."sku" = item."sku";
    END IF;
  END LOOP;
  INSERT INTO "reservation_lines" ("order_id", "sku", "quantity", "unit_price_cents")
  SELECT p_order_id, i."sku", i."quantity", p."price_cents"
  FROM jsonb_to_recordset(p_items) AS i("sku" TEXT, "quantity" INTEGER) JOIN "products" p ON p."sku" = i."sku";
  RETURN "idempotency_store"(p_key, 201, "reservation_json"(p_order_id));
END $$;

-- Confirming a CONFIRMED reservation answers it unchanged.
CREATE FUNCTION "inventory_confirm"(p_key TEXT, p_hash TEXT, p_order_id TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'confirm', p_hash);
  v_status "ReservationStatus";
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  LOOP
    UPDATE "reservations" SET "status" = 'CONFIRMED', "confirmed_at" = "utc_now"(), "updated_at" = "utc_now"()
    WHERE "order_id" = p_order_id AND "status" = 'PENDING';
    IF FOUND THEN
      PERFORM "inventory_move_held"(p_order_id, 'sold');
      EXIT;
    END IF;
    SELECT "status" INTO v_status FROM "reservations" WHERE "order_id" = p_order_id;
    IF NOT FOUND THEN
      PERFORM "http_error"(404, 'unknown_reservation', format('no reservation for order %s', p_order_id));
    END IF;
    EXIT WHEN v_status = 'CONFIRMED';
    IF v_status <> 'PENDING' THEN
      PERFORM "http_error"(409, 'illegal_transition', format('reservation for order %s is %s; only PENDING can be confirmed', p_order_id, v_status));
    END IF;
    -- PENDING: the reservation committed between the update and the read; decide again.
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "reservation_json"(p_order_id));
END $$;

-- Compensation of reserve: gives the held stock back. Releasing nothing records a tombstone and succeeds.
CREATE FUNCTION "inventory_release"(p_key TEXT, p_hash TEXT, p_order_id TEXT, p_reason TEXT) RETURNS "idempotent_response"
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
    IF v_status = 'CONFIRMED' THEN
      PERFORM "http_error"(409, 'illegal_transition', format('reservation for order %s is CONFIRMED (sold) and can no longer be released', p_order_id));
    END IF;
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "reservation_json"(p_order_id) || jsonb_build_object('noop', v_noop));
END $$;
