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

-- Orders' requests: PENDING → APPROVED, or PENDING → REJECTED / CANCELLED; the last three are final. Races are decided
-- by conditional single-statement writes (see request-functions.ts): the order row is inserted with ON CONFLICT DO
-- NOTHING, its status moves with UPDATE ... WHERE status = 'PENDING'.

CREATE FUNCTION "order_json"(p_order_id TEXT) RETURNS JSONB LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', o."id", 'customerId', o."customer_id", 'status', o."status", 'reason', o."reason",
    'createdAt', "json_time"(o."created_at"), 'updatedAt', "json_time"(o."updated_at"), 'approvedAt', "json_time"(o."approved_at"),
    'rejectedAt', "json_time"(o."rejected_at"), 'cancelledAt', "json_time"(o."cancelled_at"),
    'lines', COALESCE((
      SELECT jsonb_agg(jsonb_build_object('orderId', l."order_id", 'sku', l."sku", 'quantity', l."quantity") ORDER BY l."sku")
      FROM "order_lines" l WHERE l."order_id" = o."id"), '[]'::jsonb))
  FROM "orders" o WHERE o."id" = p_order_id
$$;

CREATE FUNCTION "orders_create"(p_key TEXT, p_hash TEXT, p_order_id TEXT, p_customer_id TEXT, p_items JSONB) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'create', p_hash);
  v_existing RECORD;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  -- A concurrent create of the same id waits on the primary key until the first commits, then inserts nothing.
  INSERT INTO "orders" ("id", "customer_id", "status", "created_at", "updated_at")
  VALUES (p_order_id, p_customer_id, 'PENDING', "utc_now"(), "utc_now"())
  ON CONFLICT ("id") DO NOTHING;
  IF NOT FOUND THEN
    -- Another key for the same order id: the saga's order (or its tombstone) already exists.
    SELECT "status", "customer_id" INTO v_existing FROM "orders" WHERE "id" = p_order_id;
    PERFORM "http_error"(409, 'illegal_transition',
      format('order %s %s', p_order_id, CASE WHEN v_existing."customer_id" IS NULL
        THEN format('was %s before it was created', lower(v_existing."status"::text))
        ELSE format('already exists in status %s', v_existing."status") END),
      jsonb_build_object('status', v_existing."status"));
  END IF;
  INSERT INTO "order_lines" ("order_id", "sku", "quantity")
  SELECT p_order_id, i."sku", i."quantity" FROM jsonb_to_recordset(p_items) AS i("sku" TEXT, "quantity" INTEGER);
  RETURN "idempotency_store"(p_key, 201, "order_json"(p_order_id));
END $$;

CREATE FUNCTION "orders_approve"(p_key TEXT, p_hash TEXT, p_order_id TEXT) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'approve', p_hash);
  v_status "OrderStatus";
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  LOOP
    -- Of a concurrent approve and reject of one PENDING order exactly one moves it: never an APPROVED order with a
    -- rejection reason.
    UPDATE "orders" SET "status" = 'APPROVED', "approved_at" = "utc_now"(), "updated_at" = "utc_now"()
    WHERE "id" = p_order_id AND "status" = 'PENDING';
    EXIT WHEN FOUND;
    SELECT "status" INTO v_status FROM "orders" WHERE "id" = p_order_id;
    IF NOT FOUND THEN
      PERFORM "http_error"(404, 'unknown_order', format('unknown order: %s', p_order_id));
    END IF;
    EXIT WHEN v_status = 'APPROVED';
    IF v_status <> 'PENDING' THEN
      PERFORM "http_error"(409, 'illegal_transition', format('order %s is %s; only PENDING can be approved', p_order_id, v_status),
        jsonb_build_object('status', v_status));
    END IF;
    -- PENDING: the order committed between the update and the read; decide again.
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "order_json"(p_order_id));
END $$;

-- Compensation of create (REJECTED, the saga failed) or the user's cancellation (CANCELLED). Closing an order that is
-- already closed changes nothing; closing one that does not exist yet records a tombstone and succeeds, so that a
-- create arriving late is refused instead of leaving a PENDING order that no saga will ever finish.
CREATE FUNCTION "orders_close"(p_key TEXT, p_operation TEXT, p_hash TEXT, p_order_id TEXT, p_status "OrderStatus", p_reason TEXT)
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
    IF v_status = 'APPROVED' THEN
      PERFORM "http_error"(409, 'illegal_transition', format('order %s is APPROVED and can no longer be %s', p_order_id, lower(p_status::text)),
        jsonb_build_object('status', v_status));
    END IF;
    IF v_status <> 'PENDING' THEN v_noop := TRUE; EXIT; END IF;
  END LOOP;
  RETURN "idempotency_store"(p_key, 200, "order_json"(p_order_id) || jsonb_build_object('noop', v_noop));
END $$;

-- The dead-letter log (services/orders/dead-letters.ts). One row per (saga, step, round), whatever the idempotency key:
-- the saga's retried request finds the first row.
CREATE FUNCTION "dead_letter_json"(p_id INTEGER) RETURNS JSONB LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', d."id", 'sagaId', d."saga_id", 'step', d."step", 'forStep', d."for_step", 'round', d."round", 'errorType', d."error_type",
    'lastError', d."last_error", 'attempts', d."attempts", 'status', d."status", 'resolution', d."resolution",
    'createdAt', "json_time"(d."created_at"), 'closedAt', "json_time"(d."closed_at"))
  FROM "dead_letters" d WHERE d."id" = p_id
$$;

CREATE FUNCTION "dead_letters_record"(p_key TEXT, p_hash TEXT, p_entry JSONB) RETURNS "idempotent_response"
LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'dead-letter', p_hash);
  e RECORD;
  v_id INTEGER;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  SELECT * INTO e FROM jsonb_to_record(p_entry) AS x("sagaId" TEXT, "step" TEXT, "forStep" TEXT, "round" INTEGER, "errorType" TEXT,
    "lastError" TEXT, "attempts" INTEGER);
  INSERT INTO "dead_letters" ("saga_id", "step", "for_step", "round", "error_type", "last_error", "attempts", "created_at")
  VALUES (e."sagaId", e."step", e."forStep", e."round", e."errorType", e."lastError", e."attempts", "utc_now"())
  ON CONFLICT ("saga_id", "step", "round") DO NOTHING
  RETURNING "id" INTO v_id;
  IF v_id IS NULL THEN
    SELECT "id" INTO v_id FROM "dead_letters" WHERE "saga_id" = e."sagaId" AND "step" = e."step" AND "round" = e."round";
  END IF;
  RETURN "idempotency_store"(p_key, 201, "dead_letter_json"(v_id));
END $$;

-- OPEN → RETRIED or OPEN → RESOLVED; both final. Closing again the same way answers the entry unchanged.
CREATE FUNCTION "dead_letters_close"(p_key TEXT, p_operation TEXT, p_hash TEXT, p_id INTEGER, p_status "DeadLetterStatus", p_resolution TEXT)
RETURNS "idempotent_response" LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, p_operation, p_hash);
  v_status "DeadLetterStatus";
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  UPDATE "dead_letters" SET "status" = p_status, "resolution" = p_resolution, "closed_at" = "utc_now"()
  WHERE "id" = p_id AND "status" = 'OPEN';
  IF NOT FOUND THEN
    SELECT "status" INTO v_status FROM "dead_letters" WHERE "id" = p_id;
    IF NOT FOUND THEN
      PERFORM "http_error"(404, 'unknown_dead_letter', format('unknown dead letter: %s', p_id));
    END IF;
    IF v_status <> p_status THEN
      PERFORM "http_error"(409, 'illegal_transition', format('dead letter %s is already %s', p_id, lower(v_status::text)),
        jsonb_build_object('status', v_status));
    END IF;
  END IF;
  RETURN "idempotency_store"(p_key, 200, "dead_letter_json"(p_id));
END $$;
