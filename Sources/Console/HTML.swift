import Foundation

/// Text that is already HTML. Everything else the pages show goes through
/// ``HTML/text(_:)``, which escapes it: a job's arguments, an error, an
/// answer from a channel are the outside world's text.
public struct HTML: Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let raw: String

    public init(raw: String) { self.raw = raw }
    public init(stringLiteral value: String) { raw = value }
    public var description: String { raw }

    /// `value` escaped for an element's content or a quoted attribute.
    public static func text(_ value: String) -> HTML {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for character in value.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return HTML(raw: escaped)
    }

    public static func + (lhs: HTML, rhs: HTML) -> HTML { HTML(raw: lhs.raw + rhs.raw) }

    public static func join(_ parts: [HTML], separator: HTML = "") -> HTML {
        HTML(raw: parts.map(\.raw).joined(separator: separator.raw))
    }
}

/// Interpolation that escapes whatever is not already ``HTML``:
/// `"<td>\(job.kind)</td>" as HTML` cannot inject markup.
extension HTML: ExpressibleByStringInterpolation {
    public struct StringInterpolation: StringInterpolationProtocol {
        var raw = ""
        public init(literalCapacity: Int, interpolationCount: Int) { raw.reserveCapacity(literalCapacity) }
        public mutating func appendLiteral(_ literal: String) { raw += literal }
        public mutating func appendInterpolation(_ html: HTML) { raw += html.raw }
        public mutating func appendInterpolation(_ text: String) { raw += HTML.text(text).raw }
        public mutating func appendInterpolation(_ text: String?) { raw += HTML.text(text ?? "–").raw }
        public mutating func appendInterpolation<T: BinaryInteger>(_ number: T) { raw += String(number) }
        public mutating func appendInterpolation(_ parts: [HTML]) { raw += parts.map(\.raw).joined() }
    }

    public init(stringInterpolation: StringInterpolation) { raw = stringInterpolation.raw }
}

/// How the pages write numbers, durations and times.
enum Format {
    static func rate(_ value: Double) -> String { String(format: "%.1f", value) }

    static func age(_ seconds: Double?) -> String {
        guard let seconds else { return "–" }
        return seconds < 120 ? String(format: "%.1f s", seconds) : seconds < 7200 ? String(format: "%.0f min", seconds / 60)
            : String(format: "%.1f h", seconds / 3600)
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "–" }
        return timestamp.string(from: date)
    }

    // DateFormatter formats from any thread; it is never mutated after this.
    nonisolated(unsafe) private static let timestamp: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter
    }()
}
