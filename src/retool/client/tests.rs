//! Client tests against small axum handlers on 127.0.0.1:0.
