-- retool-audit history: what `prune` removed. A shipped migration is never edited.
-- Independent of every other migration after 0001.
--
-- One row per removed snapshot, written in the same transaction that removes it:
-- its id, times, record counts and both hashes. The chain of an org runs through
-- these rows across a gap: `verify` accepts a kept snapshot whose prev_sha256 is
-- not the previous kept snapshot's sha256 only when pruned rows link the two.

CREATE TABLE pruned_snapshots (
    id          INTEGER PRIMARY KEY,  -- the removed snapshot's id (never reused)
    org         TEXT    NOT NULL,
    started_at  TEXT    NOT NULL,     -- RFC 3339, UTC
    finished_at TEXT    NOT NULL,     -- RFC 3339, UTC (the snapshot's time)
    counts_json TEXT    NOT NULL,     -- its record counts, as in snapshots
    sha256      TEXT    NOT NULL,     -- its content hash, as in snapshots
    prev_sha256 TEXT,                 -- the hash it linked to, as in snapshots
    pruned_at   TEXT    NOT NULL      -- RFC 3339, UTC
);
CREATE INDEX pruned_snapshots_org ON pruned_snapshots (org, id);
