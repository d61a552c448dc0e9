/// `timebank api`'s two forms of the catalog's api: text for a terminal,
/// and Markdown, committed as docs/api.md (`APIDocumentTests` keeps that
/// file equal to what a freshly migrated database gives).
public enum APIDocument {
    /// How to bring docs/api.md up to date (against a database migrated by this tree).
    public static let regenerate = "timebank migrate && timebank api --markdown > docs/api.md"

    public static func text(_ functions: [APIFunction]) -> String {
        functions.map { function in
            var lines = [function.signature, "  returns \(function.result)", "  callers \(callers(function))"]
            lines += (function.comment ?? "(no comment)").split(separator: "\n", omittingEmptySubsequences: false).map { "  \($0)" }
            return lines.joined(separator: "\n") + "\n"
        }.joined(separator: "\n")
    }

    public static func markdown(_ functions: [APIFunction]) -> String {
        var out = """
            # The api (schema `api`)

            The client contract: every function of schema `api`, its signature, result, the roles that may call it, \
            and its comment, as the catalog of a database migrated by this tree holds them \
            (the comments are in sql/functions/api/, after each function). Generated; do not edit: \
            `\(regenerate)`.

            A refusal of bad input is SQLSTATE 22023 (invalid_parameter_value): its message starts with the rule it \
            enforces (`R1: ...`, the numbering of ../shared/DOMAIN.md), and its DETAIL (`field: person_id`) and COLUMN \
            name the input field; each function's comment lists its refusals. A request the api accepted returns its id: \
            its outcome (completed, or refused by a worker, naming the rule) is `api.request_status(id)`.

            | function | returns | callers |
            | --- | --- | --- |

            """
        for function in functions {
            out += "| [`\(function.name)`](#\(anchor(function))) | `\(function.result.replacingOccurrences(of: "|", with: "\\|"))` | \(callers(function)) |\n"
        }
        for function in functions {
            out += "\n## \(function.name)\n\n```sql\n\(function.signature) RETURNS \(function.result)\n```\n\nCallers: \(callers(function))\n"
            var inList = false
            for line in (function.comment ?? "(no comment)").split(separator: "\n") {
                let item = line.hasPrefix("- ")
                // A Markdown paragraph per line; a list's items stay together.
                if !(item && inList) { out += "\n" }
                // `<field>` and the like are placeholders, not HTML.
                out += line.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;") + "\n"
                inList = item
            }
        }
        return out
    }

    static func callers(_ function: APIFunction) -> String {
        function.callers.isEmpty ? "(the owner only)" : function.callers.joined(separator: ", ")
    }

    /// GitHub's heading anchor: lower case, without the dot.
    static func anchor(_ function: APIFunction) -> String {
        function.name.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }
}
