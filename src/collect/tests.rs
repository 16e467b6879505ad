//! Collector tests against a small spec-shaped organization on 127.0.0.1:0.
