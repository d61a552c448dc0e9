@testable import Console
import Foundation
import Testing

/// The pages' pure parts: escaping, the way back after a form, the notices.
@Suite struct ConsolePageTests {
    @Test func interpolatedTextIsEscaped() {
        let hostile = "<script>alert('x')</script> & \"quoted\""
        let html: HTML = "<td title=\"\(hostile)\">\(hostile)</td>"
        #expect(html.raw == "<td title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;\">"
            + "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;</td>")
        let nested: HTML = "<p>\(html)</p>"
        #expect(nested.raw == "<p>" + html.raw + "</p>", "HTML is not escaped twice")
    }

    @Test func formsGoBackOnlyToThisConsole() {
        #expect(HTTPForm.localPath("/jobs?queue=settlement") == "/jobs?queue=settlement")
        for outside in ["//evil.example/", "https://evil.example/", "/\\evil.example", "jobs", "/jobs\r\nSet-Cookie: x", nil] {
            #expect(HTTPForm.localPath(outside) == "/", "\(outside ?? "nil")")
        }
    }

    @Test func formFieldsAndCookiesAreDecoded() {
        let fields = HTTPForm.fields(Data("csrf=ab%2Fc&reason=two+words&reason=second".utf8))
        #expect(fields?["csrf"] == "ab/c" && fields?["reason"] == "two words")
        #expect(HTTPForm.cookie("timebank_console", in: "a=1; timebank_console=f00d; b=2") == "f00d")
        #expect(HTTPForm.cookie("timebank_console", in: "timebank_console_x=1") == nil)
    }

    @Test func noticesNameOnlyKnownActions() {
        #expect(Notice.text(action: "retry", target: "<b>7</b>") == "已重试 Retried: <b>7</b>", "the page escapes the target")
        #expect(Notice.text(action: "you have been hacked", target: nil) == nil)
    }
}
