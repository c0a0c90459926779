import CCurl
import CLibXML2
import Testing

/// The system-library targets link and expose the C APIs later modules build on.
@Suite struct SystemLibrariesTests {
    @Test func libxml2IsLinkedAndReportsItsVersion() {
        xmlInitParser()
        let version = String(cString: xmlParserVersion!)
        #expect(Int(version)! >= 20_900)
    }

    @Test func libcurlIsLinkedAndTypedSetoptWrappersWork() throws {
        #expect(curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK)
        let info = try #require(curl_version_info(CURLVERSION_NOW))
        #expect(info.pointee.version_num >= 0x07_4000)
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        #expect(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK)
        #expect(ccurl_setopt_str(handle, CURLOPT_URL, "http://127.0.0.1:1/") == CURLE_OK)
    }
}
