//! The audit tables as diesel sees them (same shape on SQLite and PostgreSQL; the
//! migrations in `migrations/sqlite` and `migrations/postgres` are the source of truth).

diesel::table! {
    audit_records (node_id, seq) {
        node_id -> Text,
        seq -> BigInt,
        id -> Text,
        received_at -> Timestamp,
        forwarded_at -> Nullable<Timestamp>,
        answered_at -> Nullable<Timestamp>,
        remote_addr -> Text,
        consumer -> Nullable<Text>,
        consumer_cert -> Nullable<Text>,
        provider -> Nullable<Text>,
        service -> Nullable<Text>,
        operation -> Nullable<Text>,
        provider_endpoint -> Nullable<Text>,
        soap_version -> Nullable<Text>,
        outcome -> Text,
        fault_code -> Nullable<Text>,
        fault_reason -> Nullable<Text>,
        http_status -> Integer,
        request_in_sha256 -> Nullable<Text>,
        request_in_size -> Nullable<BigInt>,
        request_out_sha256 -> Nullable<Text>,
        request_out_size -> Nullable<BigInt>,
        response_in_sha256 -> Nullable<Text>,
        response_in_size -> Nullable<BigInt>,
        response_out_sha256 -> Nullable<Text>,
        response_out_size -> Nullable<BigInt>,
        request_mapping -> Nullable<Text>,
        response_mapping -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_messages (node_id, seq, kind) {
        node_id -> Text,
        seq -> BigInt,
        kind -> Text,
        received_at -> Timestamp,
        body -> Binary,
    }
}

diesel::table! {
    audit_seals (node_id, seq) {
        node_id -> Text,
        seq -> BigInt,
        head_hash -> Text,
        sealed_at -> Timestamp,
        reason -> Text,
        key_id -> Text,
        public_key -> Text,
        signature -> Text,
    }
}

diesel::table! {
    audit_archives (node_id, last_seq) {
        node_id -> Text,
        first_seq -> BigInt,
        last_seq -> BigInt,
        first_prev_hash -> Text,
        last_hash -> Text,
        record_count -> BigInt,
        before_time -> Timestamp,
        file_name -> Text,
        file_sha256 -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_daily (day, node_id, consumer, provider, service, operation, outcome, fault_code) {
        day -> Text,
        node_id -> Text,
        consumer -> Text,
        provider -> Text,
        service -> Text,
        operation -> Text,
        outcome -> Text,
        fault_code -> Text,
        n -> BigInt,
    }
}
