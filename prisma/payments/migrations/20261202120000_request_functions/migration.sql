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

-- Payments' requests. Races are decided by conditional single-statement writes (see request-functions.ts): the
-- payment row is inserted with ON CONFLICT DO NOTHING, its status moves with UPDATE ... WHERE status = 'CHARGED',
-- money moves with UPDATE ... WHERE balance + credit >= amount.

CREATE FUNCTION "payment_json"(p_order_id TEXT) RETURNS JSONB LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'orderId', p."order_id", 'customerId', p."customer_id", 'amountCents', p."amount_cents", 'status', p."status",
    'reason', p."reason", 'createdAt', "json_time"(p."created_at"), 'updatedAt', "json_time"(p."updated_at"),
    'chargedAt', "json_time"(p."charged_at"), 'refundedAt', "json_time"(p."refunded_at"))
  FROM "payments" p WHERE p."order_id" = p_order_id
$$;

CREATE FUNCTION "payments_charge"(p_key TEXT, p_hash TEXT, p_order_id TEXT, p_customer_id TEXT, p_amount_cents INTEGER)
RETURNS "idempotent_response" LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'charge', p_hash);
  v_existing "PaymentStatus";
  v_available BIGINT;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  -- One payment per order: a second charge for the order (another key), or one after its refund's tombstone, inserts
  -- nothing (after waiting for a concurrent insert to commit) and is refused. An unknown customer inserts nothing.
  INSERT INTO "payments" ("order_id", "customer_id", "amount_cents", "status", "charged_at", "created_at", "updated_at")
  SELECT p_order_id, c."id", p_amount_cents, 'CHARGED', "utc_now"(), "utc_now"(), "utc_now"() FROM "customers" c WHERE c."id" = p_customer_id
  ON CONFLICT ("order_id") DO NOTHING;
  IF NOT FOUND THEN
    SELECT "status" INTO v_existing FROM "payments" WHERE "order_id" = p_order_id;
    IF FOUND THEN
      PERFORM "http_error"(409, 'illegal_transition',
        format('order %s already has a payment in status %s%s', p_order_id, v_existing,
          CASE WHEN v_existing = 'CANCELLED' THEN ' (a refund arrived before any charge)' ELSE '' END),
        jsonb_build_object('status', v_existing));
    END IF;
    PERFORM "http_error"(404, 'unknown_customer', format('unknown customer: %s', p_customer_id));
  END IF;
  -- The row lock plus the re-checked predicate make "the last unit of credit" go to exactly one request. The sum is
  -- bigint so that a large balance plus a large credit limit cannot overflow INTEGER.
  UPDATE "customers" SET "balance_cents" = "balance_cents" - p_amount_cents, "updated_at" = "utc_now"()
  WHERE "id" = p_customer_id AND "balance_cents"::bigint + "credit_limit_cents" >= p_amount_cents;
  IF NOT FOUND THEN
    SELECT "balance_cents"::bigint + "credit_limit_cents" INTO v_available FROM "customers" WHERE "id" = p_customer_id;
    PERFORM "http_error"(422, 'insufficient_funds',
      format('insufficient funds for %s: %s cents requested, %s cents available (balance plus credit)', p_customer_id, p_amount_cents, v_available),
      jsonb_build_object('customerId', p_customer_id, 'requested', p_amount_cents, 'available', v_available));
  END IF;
  RETURN "idempotency_store"(p_key, 201, "payment_json"(p_order_id));
END $$;

-- Compensation of charge: gives the money back. Refunding nothing records a tombstone and succeeds.
CREATE FUNCTION "payments_refund"(p_key TEXT, p_hash TEXT, p_order_id TEXT, p_reason TEXT) RETURNS "idempotent_response"
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
      UPDATE "customers" SET "balance_cents" = "balance_cents" + refunded."amount_cents", "updated_at" = "utc_now"()
      WHERE "id" = refunded."customer_id";
      v_noop := FALSE;
    END IF;
  END IF;
  RETURN "idempotency_store"(p_key, 200, "payment_json"(p_order_id) || jsonb_build_object('noop', v_noop));
END $$;
