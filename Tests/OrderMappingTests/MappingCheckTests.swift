import OrderMapping
import Testing

/// Each kind of mistake in a mapping or partner file is reported when the files are loaded, with its line and column.
@Suite("Mapping file checks")
struct MappingCheckTests {
    static let header = """
        direction: inbound
        format: x12
        document: "850"
        versions: ["004010"]
        record: order

        """

    static let partner = """
        partner: acme
        identities:
          x12: { qualifier: ZZ, id: ACMERETAIL }
        us:
          x12: { qualifier: ZZ, id: WIDGETWORKS }
        inbound:
          - map: x12/850-004010

        """

    func diagnostics(_ files: [(String, String)]) -> [MappingDiagnostic] {
        do {
            _ = try MappingSet.load(files: files, displayPrefix: "mappings/")
            return []
        } catch {
            return error.diagnostics
        }
    }

    func single(_ text: String, path: String = "x12/850-004010.yaml") -> MappingDiagnostic? {
        let found = self.diagnostics([(path, text)])
        #expect(found.count == 1, "\(found)")
        return found.first
    }

    @Test func aValidMapLoads() throws {
        let set = try MappingSet.load(
            files: [("x12/850-004010.yaml", Self.header + "fields:\n  purchaseOrderNumber: BEG03\n")])
        #expect(set.inbound["x12/850-004010"] != nil)
    }

    @Test func unknownSegmentIsReportedWhereItIsWritten() throws {
        let found = try #require(self.single(Self.header + "fields:\n  purchaseOrderNumber: BXG03\n"))
        #expect(found.description == "mappings/x12/850-004010.yaml:7:24: unknown segment BXG (not in 850 004010)")
    }

    @Test func elementOutOfRangeNamesTheSegmentsSize() throws {
        let found = try #require(self.single(Self.header + "fields:\n  purchaseOrderNumber: { path: BEG13 }\n"))
        #expect(found.line == 7)
        #expect(found.column == 32)
        #expect(found.message == "element BEG13 does not exist (BEG has 12 elements)")
    }

    @Test func segmentOutsideItsLoopIsReported() throws {
        let inLoop = self.diagnostics([
            (
                "x12/850-004010.yaml",
                Self.header + "fields:\n  lines:\n    each: PO1\n    fields:\n      lineNumber: BEG03\n"
            )
        ])
        #expect(inLoop.first?.line == 10)
        #expect(inLoop.first?.message == "segment BEG is not in loop PO1 in 850 004010")
    }

    @Test func unknownCanonicalFieldListsTheKnownOnes() throws {
        let found = try #require(
            self.single(Self.header + "fields:\n  lines:\n    each: PO1\n    fields:\n      quantty: PO102\n")
        )
        #expect(found.line == 10)
        #expect(found.column == 7)
        #expect(found.message.hasPrefix("unknown canonical field 'quantty' for line (known: "))
    }

    @Test func badCodeTableValueIsReportedAtTheEntry() throws {
        let text =
            Self.header + """
                codes:
                  roles: { ST: shipTo, BY: buyr }
                fields:
                  parties:
                    each: N1
                    fields:
                      role: { path: N101, codes: roles }

                """
        let found = try #require(self.single(text))
        #expect(found.line == 7)
        #expect(found.column == 28)
        #expect(found.message.hasPrefix("code table 'roles' maps 'BY' to 'buyr', which is not a value of role"))
    }

    @Test func missingCodeTableIsReported() throws {
        let found = try #require(self.single(Self.header + "fields:\n  purpose: { path: BEG01, codes: purposes }\n"))
        #expect(found.line == 7)
        #expect(found.column == 34)
        #expect(found.message.hasPrefix("no code table 'purposes'"))
    }

    @Test func badDateFormatIsReported() throws {
        let found = try #require(self.single(Self.header + "fields:\n  orderDate: { path: BEG05, format: DDMMYY }\n"))
        #expect(found.line == 7)
        #expect(found.column == 37)
        #expect(found.message.hasPrefix("unknown date format 'DDMMYY'"))
    }

    @Test func duplicateKeyPointsAtTheRepeatedKey() throws {
        let found = try #require(
            self.single(
                Self.header
                    + "fields:\n  purchaseOrderNumber: BEG03\n  orderDate: BEG05\n  purchaseOrderNumber: BEG04\n"
            )
        )
        #expect(found.line == 9)
        #expect(found.column == 3)
        #expect(found.message == "duplicate key 'purchaseOrderNumber' (first at line 7)")
    }

    @Test func yamlSyntaxErrorHasItsPosition() throws {
        let found = try #require(self.single(Self.header + "fields:\n  purchaseOrderNumber: [BEG03\n"))
        #expect(found.line == 8)
        #expect(found.message.hasPrefix("YAML syntax error"))
    }

    @Test func unknownRuleKeyIsReported() throws {
        let found = try #require(self.single(Self.header + "fields:\n  orderDate: { pth: BEG05 }\n"))
        #expect(found.line == 7)
        #expect(found.column == 16)
        #expect(found.message.hasPrefix("unknown key 'pth'"))
    }

    @Test func badPathSyntaxIsReported() throws {
        let found = try #require(self.single(Self.header + "fields:\n  currency: \"CUR02[CUR01=BY\"\n"))
        #expect(found.line == 7)
        #expect(found.message.contains("missing ']'"))
    }

    @Test func missingReferencedMapIsReportedInThePartnerFile() throws {
        let found = self.diagnostics([("partners/acme.yaml", Self.partner)])
        #expect(found.count == 1)
        #expect(found.first?.description == "mappings/partners/acme.yaml:7:10: missing referenced map 'x12/850-004010'")
    }

    @Test func partnerIdentityClashIsReported() throws {
        let other = """
            partner: other
            identities:
              x12: { qualifier: ZZ, id: ACMERETAIL }

            """
        let found = self.diagnostics([
            ("x12/850-004010.yaml", Self.header + "fields:\n  purchaseOrderNumber: BEG03\n"),
            ("partners/acme.yaml", Self.partner), ("partners/other.yaml", other),
        ])
        #expect(found.count == 1)
        #expect(found.first?.file == "mappings/partners/other.yaml")
        #expect(found.first?.line == 3)
        #expect(found.first?.message == "partner identity clash: ACMERETAIL is already partner 'acme'")
    }

    @Test func secretsInPartnerFilesAreRefused() throws {
        let text =
            Self.partner
            + "transports:\n  push: { url: \"https://x.example/in\", headers: { Authorization: Bearer abc } }\n"
        let found = self.diagnostics([
            ("x12/850-004010.yaml", Self.header + "fields:\n  purchaseOrderNumber: BEG03\n"),
            ("partners/acme.yaml", text),
        ])
        #expect(found.count == 1)
        #expect(found.first?.line == 9)
        #expect(found.first?.message.contains("secret") == true)
    }

    @Test func aCredentialIsNeverSentOverPlainHTTPToAnotherMachine() throws {
        for (url, refused) in [
            ("http://edi.partner.example/in", true), ("https://edi.partner.example/in", false),
            ("http://127.0.0.1:8099/in", false),
        ] {
            let text =
                Self.partner + "transports:\n  push: { url: \"\(url)\", secretFile: /etc/ordergate/secrets/acme }\n"
            let found = self.diagnostics([
                ("x12/850-004010.yaml", Self.header + "fields:\n  purchaseOrderNumber: BEG03\n"),
                ("partners/acme.yaml", text),
            ])
            #expect(found.contains { $0.message.contains("only over https://") } == refused, "\(url): \(found)")
        }
    }

    @Test func partnerOverridesAreCheckedLikeTheMap() throws {
        let text = Self.partner.replacingOccurrences(
            of: "  - map: x12/850-004010\n",
            with:
                "  - map: x12/850-004010\n    overrides:\n      lines.item.sku: { pairs: PO106, qualifier: [SK] }\n      orderDate: BEG55\n"
        )
        let found = self.diagnostics([
            (
                "x12/850-004010.yaml",
                Self.header
                    + "fields:\n  purchaseOrderNumber: BEG03\n  lines: { each: PO1, fields: { lineNumber: PO101 } }\n"
            ),
            ("partners/acme.yaml", text),
        ])
        #expect(found.count == 1)
        #expect(found.first?.file == "mappings/partners/acme.yaml")
        #expect(found.first?.line == 10)
        #expect(found.first?.message == "element BEG55 does not exist (BEG has 12 elements)")
    }

    @Test func everyMistakeOfAFileIsReportedAtOnce() {
        let found = self.diagnostics([
            (
                "x12/850-004010.yaml",
                Self.header
                    + "fields:\n  purchaseOrderNumber: BXG03\n  orderDate: { path: BEG05, format: X }\n  nope: BEG01\n"
            )
        ])
        #expect(found.map(\.line) == [7, 8, 9])
    }
}

extension MappingCheckTests {
    /// Regression (found by fuzz/mapping_loader): `index: 0` loaded and then trapped when rendering.
    @Test func outputIndexCountsFromOne() throws {
        let text = """
            direction: outbound
            format: xml
            document: ShipNotice
            record: shipNotice
            root:
            - D: {field: trackingNumbers, index: 0}

            """
        let found = try #require(self.single(text, path: "xml/test.yaml"))
        #expect(found.line == 6)
        #expect(found.message == "index counts from 1 (the first value of the list)")
    }
}

extension MappingCheckTests {
    /// A path with a leading `/` reads from the whole set inside any block, and is checked against the set's top level.
    @Test func absolutePathsAreCheckedAgainstTheSet() throws {
        let good = Self.header + "fields:\n  lines:\n    each: PO1\n    fields:\n      lineNumber: /BEG03\n"
        #expect(self.diagnostics([("x12/850-004010.yaml", good)]).isEmpty)
        let bad = Self.header + "fields:\n  lines:\n    each: PO1\n    fields:\n      lineNumber: /SLN01\n"
        let found = try #require(self.single(bad))
        #expect(found.line == 10)
        #expect(found.message == "segment SLN is not at the top of the set in 850 004010")
    }
}
