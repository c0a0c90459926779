import GRDB

/// The tables, as migrations. A migration, once released, never changes: new columns and tables come in new ones.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-ledger") { db in
            try db.execute(sql: v1)
        }
        migrator.registerMigration("v2-file-hash-index") { db in
            // The duplicate-file lookup filters on partner, hash and state; the partial unique index alone did not
            // serve it, so every file scanned the whole ledger.
            try db.execute(sql: "CREATE INDEX files_hash ON files(partner_id, sha256)")
        }
        migrator.registerMigration("v3-business-data") { db in
            try db.execute(sql: v3)
        }
        migrator.registerMigration("v4-api") { db in
            try db.execute(sql: v4)
        }
        migrator.registerMigration("v5-shipments") { db in
            try db.execute(sql: v5)
        }
        migrator.registerMigration("v6-delivery") { db in
            try db.execute(sql: v6)
        }
        migrator.registerMigration("v7-invoices") { db in
            try db.execute(sql: v7)
        }
        migrator.registerMigration("v8-acknowledgements-order-index") { db in
            // An order's detail lists its acknowledgements: without this, each read scanned every acknowledgement.
            try db.execute(sql: "CREATE INDEX acknowledgements_order ON acknowledgements(order_id, id)")
        }
        migrator.registerMigration("v9-installation") { db in
            // Made once per database: idempotency keys sent to partners are `<installation>-<row>`, so that a rebuilt
            // database (or a second gateway) whose row IDs start again never reuses a key a partner has seen.
            try db.execute(
                sql: """
                    CREATE TABLE installation (id INTEGER PRIMARY KEY CHECK (id = 1), key TEXT NOT NULL);
                    INSERT INTO installation (id, key) VALUES (1, lower(hex(randomblob(8))));
                    """
            )
        }
        migrator.registerMigration("v10-poll-url") { db in
            // The validators (ETag, Last-Modified) belong to the URL that sent them, not to the partner: a profile
            // that moves to another URL must not send the old server's ETag to the new one.
            try db.execute(sql: "ALTER TABLE poll_state ADD COLUMN url TEXT")
        }
        migrator.registerMigration("v11-order-documents") { db in
            // An order's canonical JSON (tens of kilobytes with its origins) gets a table of its own: SQLite rewrites
            // a whole row on every UPDATE, and an order's row changes with each status of its decision.
            try db.execute(
                sql: """
                    CREATE TABLE order_documents (
                        order_id INTEGER PRIMARY KEY REFERENCES orders(id),
                        canonical TEXT NOT NULL
                    );
                    INSERT INTO order_documents (order_id, canonical) SELECT id, canonical FROM orders;
                    ALTER TABLE orders DROP COLUMN canonical;
                    """
            )
        }
        return migrator
    }

    /// Invoices the ERP reports, each with its lines (quantities and amounts, never more than shipped) and the
    /// document it became. An invoice number is used once per partner.
    private static let v7 = """
        CREATE TABLE invoices (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            partner_id TEXT NOT NULL,
            invoice_number TEXT NOT NULL,
            invoice_date TEXT,
            currency TEXT,
            total TEXT NOT NULL,
            invoice TEXT NOT NULL,
            outbound_id INTEGER REFERENCES outbound(id),
            created_at TEXT NOT NULL,
            UNIQUE (partner_id, invoice_number)
        );
        CREATE INDEX invoices_order ON invoices(order_id);
        CREATE TABLE invoice_lines (
            invoice_row INTEGER NOT NULL REFERENCES invoices(id),
            line_number TEXT NOT NULL,
            quantity TEXT NOT NULL,
            amount TEXT NOT NULL
        );
        CREATE INDEX invoice_lines_row ON invoice_lines(invoice_row);
        """

    /// Delivery by HTTP: one row per outbound document for a partner with a push endpoint (the outbound row stays
    /// the source of truth; this is its delivery state), and what polling a partner's endpoint last saw.
    /// `state`: waiting (for `due_at`), delivered, held (for an admin: a 4xx, the lifetime passed, or put on hold).
    /// Lifetimes count from `since_at`: the queueing, or an admin's retry.
    private static let v6 = """
        CREATE TABLE deliveries (
            outbound_id INTEGER PRIMARY KEY REFERENCES outbound(id),
            partner_id TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('waiting', 'delivered', 'held')),
            attempts INTEGER NOT NULL DEFAULT 0,
            due_at TEXT NOT NULL,
            since_at TEXT NOT NULL,
            last_attempt_at TEXT,
            last_status INTEGER,
            last_error TEXT,
            response BLOB,
            delivered_at TEXT,
            held_reason TEXT
        );
        CREATE INDEX deliveries_due ON deliveries(state, partner_id, due_at);
        CREATE TABLE poll_state (
            partner_id TEXT PRIMARY KEY,
            etag TEXT,
            last_modified TEXT,
            last_hash TEXT,
            polled_at TEXT,
            last_status INTEGER,
            last_error TEXT,
            documents INTEGER NOT NULL DEFAULT 0
        );
        """

    /// Shipments the ERP reports, each with its lines (and the SSCC of the pack each went in) and the ship notice
    /// it became.
    private static let v5 = """
        CREATE TABLE shipments (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            partner_id TEXT NOT NULL,
            shipment_id TEXT NOT NULL,
            shipped_on TEXT,
            notice TEXT NOT NULL,
            outbound_id INTEGER REFERENCES outbound(id),
            created_at TEXT NOT NULL,
            UNIQUE (order_id, shipment_id)
        );
        CREATE TABLE shipment_lines (
            shipment_row INTEGER NOT NULL REFERENCES shipments(id),
            line_number TEXT NOT NULL,
            quantity TEXT NOT NULL,
            sscc TEXT
        );
        CREATE INDEX shipment_lines_row ON shipment_lines(shipment_row);
        """

    /// The HTTP API: tokens (only their SHA-256 is kept) and the responses of POSTs by idempotency key.
    private static let v4 = """
        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'erp', 'partner')),
            partner_id TEXT,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            revoked_at TEXT,
            CHECK ((role = 'partner') = (partner_id IS NOT NULL))
        );
        CREATE TABLE idempotency_keys (
            token_id INTEGER NOT NULL REFERENCES api_tokens(id),
            key TEXT NOT NULL,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            status INTEGER NOT NULL,
            content_type TEXT NOT NULL,
            body BLOB NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (token_id, key)
        );
        """

    /// Business data (imported, or pushed by the ERP) and what the rules decided. Quantities and money are decimal
    /// text, never floating point; stock `reserved` is Ordergate's own (the sum of active reservations), as is a
    /// credit account's `open_orders` (the value of accepted orders not yet invoiced or cancelled).
    private static let v3 = """
        CREATE TABLE items (
            sku TEXT PRIMARY KEY,
            description TEXT,
            gtin TEXT,
            vendor_part TEXT,
            base_unit TEXT NOT NULL,
            conversions TEXT NOT NULL,
            lead_time_days INTEGER,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE buyer_parts (
            partner_id TEXT NOT NULL,
            buyer_part TEXT NOT NULL,
            sku TEXT NOT NULL REFERENCES items(sku),
            PRIMARY KEY (partner_id, buyer_part, sku)
        );
        CREATE INDEX buyer_parts_sku ON buyer_parts(sku);
        -- `valid_from` is '' for an open start, so that it can be part of the key.
        CREATE TABLE price_breaks (
            price_list TEXT NOT NULL,
            sku TEXT NOT NULL REFERENCES items(sku),
            min_quantity TEXT NOT NULL,
            unit_price TEXT NOT NULL,
            currency TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            valid_to TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (price_list, sku, min_quantity, valid_from)
        );
        CREATE TABLE contract_prices (
            partner_id TEXT NOT NULL,
            sku TEXT NOT NULL REFERENCES items(sku),
            unit_price TEXT NOT NULL,
            currency TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            valid_to TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (partner_id, sku, valid_from)
        );
        CREATE TABLE credit_accounts (
            id TEXT PRIMARY KEY,
            credit_limit TEXT NOT NULL,
            open_balance TEXT NOT NULL,
            past_due TEXT NOT NULL,
            past_due_days INTEGER NOT NULL,
            allowed_past_due_days INTEGER NOT NULL,
            currency TEXT NOT NULL,
            open_orders TEXT NOT NULL DEFAULT '0',
            updated_at TEXT NOT NULL
        );
        CREATE TABLE nodes (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('warehouse', 'store')),
            latitude REAL,
            longitude REAL,
            partners TEXT NOT NULL,
            ship_from_store INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE stock (
            node_id TEXT NOT NULL REFERENCES nodes(id),
            sku TEXT NOT NULL REFERENCES items(sku),
            on_hand TEXT NOT NULL,
            reserved TEXT NOT NULL DEFAULT '0',
            safety_stock TEXT NOT NULL,
            next_replenishment TEXT,
            replenishment_quantity TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (node_id, sku)
        );
        CREATE INDEX stock_sku ON stock(sku);
        -- Where ship-to parties are: `<partner>:<party identifier>` or `postal:<country>:<postal code>`.
        CREATE TABLE locations (
            key TEXT PRIMARY KEY,
            latitude REAL NOT NULL,
            longitude REAL NOT NULL
        );
        -- Bumped by every import, so that the daemon reloads its copy of the catalogue.
        CREATE TABLE data_version (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            value INTEGER NOT NULL
        );
        INSERT INTO data_version (id, value) VALUES (1, 0);

        -- Every decision of the rules about an order (the first, and each one after a release or a change).
        CREATE TABLE order_decisions (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            status TEXT NOT NULL,
            actor TEXT NOT NULL,
            decision TEXT NOT NULL,
            explanation TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX order_decisions_order ON order_decisions(order_id, id);
        CREATE TABLE reservations (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            node_id TEXT NOT NULL,
            sku TEXT NOT NULL,
            quantity TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('active', 'released', 'shipped')),
            created_at TEXT NOT NULL,
            closed_at TEXT
        );
        CREATE INDEX reservations_order ON reservations(order_id, state);
        CREATE TABLE holds (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            credit_account TEXT,
            reason TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('open', 'released', 'closed')),
            created_at TEXT NOT NULL,
            released_at TEXT,
            released_by TEXT,
            note TEXT
        );
        CREATE UNIQUE INDEX holds_open ON holds(order_id) WHERE state = 'open';
        CREATE INDEX holds_account ON holds(credit_account, state);

        -- The value an accepted order adds to its credit account's open orders, so that a change, a cancel or an
        -- invoice takes off exactly what was added.
        ALTER TABLE orders ADD COLUMN credit_account TEXT;
        ALTER TABLE orders ADD COLUMN open_value TEXT;
        """

    private static let v1 = """
        CREATE TABLE partners (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            profile_file TEXT NOT NULL,
            profile_version TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        -- Every inbound file, whatever became of it. `state`: processed, duplicate, quarantined.
        CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            partner_id TEXT,
            channel TEXT NOT NULL,
            original_name TEXT NOT NULL,
            work_name TEXT NOT NULL UNIQUE,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            format TEXT,
            state TEXT NOT NULL CHECK (state IN ('processed', 'duplicate', 'quarantined')),
            duplicate_of INTEGER REFERENCES files(id),
            reprocess_of INTEGER REFERENCES files(id),
            error TEXT,
            stored_path TEXT NOT NULL,
            received_at TEXT NOT NULL,
            processed_at TEXT NOT NULL
        );
        -- A file's bytes are processed once per partner; a duplicate is recorded, never processed.
        CREATE UNIQUE INDEX files_once ON files(partner_id, sha256)
            WHERE state = 'processed' AND reprocess_of IS NULL;
        CREATE INDEX files_state ON files(state, id);

        -- `status`: accepted, partially accepted, rejected (syntax), duplicate.
        CREATE TABLE interchanges (
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES files(id),
            partner_id TEXT NOT NULL,
            dialect TEXT NOT NULL,
            sender_qualifier TEXT NOT NULL,
            sender_id TEXT NOT NULL,
            receiver_qualifier TEXT NOT NULL,
            receiver_id TEXT NOT NULL,
            control_number TEXT NOT NULL,
            syntax_version TEXT NOT NULL,
            is_test INTEGER NOT NULL,
            status TEXT NOT NULL,
            duplicate_of INTEGER REFERENCES interchanges(id),
            byte_offset INTEGER NOT NULL,
            received_at TEXT NOT NULL
        );
        CREATE INDEX interchanges_key
            ON interchanges(sender_qualifier, sender_id, receiver_qualifier, receiver_id, control_number);
        CREATE UNIQUE INDEX interchanges_in_file ON interchanges(file_id, byte_offset);

        CREATE TABLE groups (
            id INTEGER PRIMARY KEY,
            interchange_id INTEGER NOT NULL REFERENCES interchanges(id),
            functional_id TEXT NOT NULL,
            sender_id TEXT NOT NULL,
            receiver_id TEXT NOT NULL,
            control_number TEXT NOT NULL,
            version TEXT NOT NULL,
            declared_sets INTEGER,
            received_sets INTEGER NOT NULL,
            accepted_sets INTEGER NOT NULL,
            status TEXT NOT NULL,
            position INTEGER NOT NULL,
            UNIQUE (interchange_id, position)
        );
        CREATE INDEX groups_control ON groups(interchange_id, control_number);

        -- X12 sets and EDIFACT messages. `status`: accepted, rejected (syntax), unmapped, duplicate.
        CREATE TABLE transaction_sets (
            id INTEGER PRIMARY KEY,
            interchange_id INTEGER NOT NULL REFERENCES interchanges(id),
            group_id INTEGER REFERENCES groups(id),
            identifier TEXT NOT NULL,
            control_number TEXT NOT NULL,
            version TEXT NOT NULL,
            status TEXT NOT NULL,
            errors TEXT,
            byte_offset INTEGER NOT NULL,
            UNIQUE (interchange_id, byte_offset)
        );

        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            partner_id TEXT NOT NULL,
            po_number TEXT NOT NULL,
            purpose TEXT NOT NULL,
            order_type TEXT,
            status TEXT NOT NULL,
            file_id INTEGER NOT NULL REFERENCES files(id),
            set_id INTEGER REFERENCES transaction_sets(id),
            currency TEXT,
            ordered_on TEXT,
            line_count INTEGER NOT NULL,
            mapping TEXT,
            mapping_version TEXT,
            canonical TEXT NOT NULL,
            duplicate_of INTEGER REFERENCES orders(id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        -- One live original per PO number and partner; a second one is stored flagged as its duplicate.
        CREATE UNIQUE INDEX orders_original ON orders(partner_id, po_number)
            WHERE purpose = 'original' AND duplicate_of IS NULL;
        CREATE INDEX orders_partner ON orders(partner_id, id);

        CREATE TABLE order_lines (
            order_id INTEGER NOT NULL REFERENCES orders(id),
            position INTEGER NOT NULL,
            line_number TEXT,
            buyer_part TEXT,
            vendor_part TEXT,
            gtin TEXT,
            description TEXT,
            quantity TEXT NOT NULL,
            unit TEXT,
            unit_price TEXT,
            PRIMARY KEY (order_id, position)
        );

        CREATE TABLE order_status (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            status TEXT NOT NULL,
            note TEXT,
            at TEXT NOT NULL
        );
        CREATE INDEX order_status_order ON order_status(order_id, id);

        -- Outbound documents. The row is the source of truth; the outbox file is written from it.
        -- `state`: pending (not yet in the outbox), written.
        CREATE TABLE outbound (
            id INTEGER PRIMARY KEY,
            partner_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            folder TEXT NOT NULL,
            file_name TEXT NOT NULL UNIQUE,
            content BLOB NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'written')),
            control_number TEXT,
            file_id INTEGER REFERENCES files(id),
            order_id INTEGER REFERENCES orders(id),
            created_at TEXT NOT NULL,
            written_at TEXT
        );
        CREATE INDEX outbound_pending ON outbound(state, id);

        -- Acknowledgements sent: 997, 999, TA1, CONTRL (and later 855, ORDRSP).
        CREATE TABLE acknowledgements (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            partner_id TEXT NOT NULL,
            file_id INTEGER REFERENCES files(id),
            interchange_id INTEGER REFERENCES interchanges(id),
            order_id INTEGER REFERENCES orders(id),
            status TEXT NOT NULL,
            outbound_id INTEGER NOT NULL REFERENCES outbound(id),
            created_at TEXT NOT NULL
        );

        -- Control numbers we send, per partner and kind (interchange, group); never reused.
        CREATE TABLE control_numbers (
            partner_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            value INTEGER NOT NULL,
            PRIMARY KEY (partner_id, kind)
        );

        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT,
            detail TEXT
        );
        """
}
