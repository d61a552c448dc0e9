import Foundation

/// The messages' texts: one file per template (`Templates/<name>.txt` in
/// this module, or a directory given with `--templates`), Chinese first,
/// then English, with named parameters in double braces: `{{service_id}}`.
/// Two forms more (issue 19, item 5):
/// - `{{coins|coin|coins}}`: the first word when the parameter is exactly
///   1, else the second ("1 coin", "1.5 coins", "2 coins");
/// - `{{state|zh}}`, `{{state|en}}`: the code's name in that language
///   (``LocalisedNames``); a code without one is an error naming it, so a
///   Chinese line never shows an English code.
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
        var names: [String] = []
        for placeholder in Self.placeholders(in: text) where !names.contains(placeholder.name) { names.append(placeholder.name) }
        return names
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
            rendered += try Self.fill(placeholder, with: value, in: template)
            rest = rest[placeholder.range.upperBound...]
        }
        rendered += rest
        return rendered.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A placeholder's text: the value, a plural's word, or a code's name.
    private static func fill(_ placeholder: Placeholder, with value: JSONValue, in template: String) throws -> String {
        switch placeholder.options.count {
        case 0:
            return value.text
        case 1:
            let language = placeholder.options[0]
            guard let name = LocalisedNames.name(of: value.text, in: language) else {
                throw TemplateError(template: template, message: "\(placeholder.name) \(value.text) has no \(language) name")
            }
            return name
        case 2:
            guard case .number(let number) = value else {
                throw TemplateError(template: template, message: "\(placeholder.name) is not a number, so it has no plural")
            }
            return number == 1 ? placeholder.options[0] : placeholder.options[1]
        default:
            throw TemplateError(template: template, message: "{{\(placeholder.name)|...}} takes a language or two words")
        }
    }

    private struct Placeholder {
        var name: String
        /// After the name: a language (zh, en), or the singular and plural words.
        var options: [String]
        var range: Range<String.Index>
    }

    private static func placeholders(in text: String) -> [Placeholder] {
        var found: [Placeholder] = []
        var searchFrom = text.startIndex
        while let open = text.range(of: "{{", range: searchFrom..<text.endIndex),
              let close = text.range(of: "}}", range: open.upperBound..<text.endIndex) {
            let parts = text[open.upperBound..<close.lowerBound].split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            found.append(Placeholder(name: parts[0], options: Array(parts.dropFirst()), range: open.lowerBound..<close.upperBound))
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
