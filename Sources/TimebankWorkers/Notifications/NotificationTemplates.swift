import Foundation

/// The messages' texts: one file per template (`Templates/<name>.txt` in
/// this module, or a directory given with `--templates`), Chinese first,
/// then English, with named parameters in double braces: `{{service_id}}`.
public struct NotificationTemplates: Sendable {
    public let texts: [String: String]

    public init(texts: [String: String]) { self.texts = texts }

    /// The templates of `directory` (every `.txt` file).
    public init(directory: URL) throws {
        var texts: [String: String] = [:]
        for file in try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        where file.pathExtension == "txt" {
            texts[file.deletingPathExtension().lastPathComponent] = try String(contentsOf: file, encoding: .utf8)
        }
        self.texts = texts
    }

    /// The templates shipped with the workers.
    public static func bundled() throws -> NotificationTemplates {
        guard let directory = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            throw TemplateError(template: "(all)", message: "the bundled Templates directory is missing beside the executable")
        }
        return try NotificationTemplates(directory: directory)
    }

    /// The names a template's text uses.
    public func parameters(of template: String) -> [String] {
        guard let text = texts[template] else { return [] }
        return Self.placeholders(in: text).map(\.name)
    }

    /// The text with every parameter filled in; a template that is missing,
    /// or a parameter the message does not give, is an error naming it.
    public func render(_ template: String, _ params: [String: JSONValue]) throws -> String {
        guard let text = texts[template] else {
            throw TemplateError(template: template, message: "no such template")
        }
        var rendered = ""
        var rest = text[...]
        for placeholder in Self.placeholders(in: text) {
            rendered += rest[rest.startIndex..<placeholder.range.lowerBound]
            guard let value = params[placeholder.name] else {
                throw TemplateError(template: template, message: "the message gives no \(placeholder.name)")
            }
            rendered += value.text
            rest = rest[placeholder.range.upperBound...]
        }
        rendered += rest
        return rendered.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func placeholders(in text: String) -> [(name: String, range: Range<String.Index>)] {
        var found: [(String, Range<String.Index>)] = []
        var searchFrom = text.startIndex
        while let open = text.range(of: "{{", range: searchFrom..<text.endIndex),
              let close = text.range(of: "}}", range: open.upperBound..<text.endIndex) {
            found.append((String(text[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespaces), open.lowerBound..<close.upperBound))
            searchFrom = close.upperBound
        }
        return found
    }
}

public struct TemplateError: Error, CustomStringConvertible, Equatable {
    public var template: String
    public var message: String
    public var description: String { "template \(template): \(message)" }
}
