import CCurl
import CLibXML2
import Testing

/// The system-library targets link and expose the C APIs later modules build on.
@Suite struct SystemLibrariesTests {
    @Test func libxml2IsLinkedAndReportsItsVersion() {
        xmlInitParser()
        #expect(LIBXML_VERSION >= 20_900)
        let document = "<a><b>x</b></a>"
        let parsed = xmlReadMemory(document, Int32(document.utf8.count), "t.xml", nil, Int32(XML_PARSE_NONET.rawValue))
        #expect(parsed != nil)
        xmlFreeDoc(parsed)
    }

    @Test func libcurlIsLinkedAndTypedSetoptWrappersWork() throws {
        #expect(curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK)
        #expect(String(cString: curl_version()).hasPrefix("libcurl/"))
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        #expect(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK)
        #expect(ccurl_setopt_str(handle, CURLOPT_URL, "http://127.0.0.1:1/") == CURLE_OK)
    }
}
