//! The auditor's side of the gateway: HTTP API under `/audit/api/...` and a web page,
//! on a listener of their own.
