/// One-dimensional PostgreSQL array literals (`{1,NULL,"a \"b\""}`).
///
/// Every element is written quoted, which is valid for every element type
/// and spares deciding which characters need quotes.
enum ArrayLiteral {
    static func format(_ elements: [String?]) -> String {
        var out = "{"
        for (index, element) in elements.enumerated() {
            if index > 0 { out += "," }
            guard let element else {
                out += "NULL"
                continue
            }
            out += "\""
            for character in element.unicodeScalars {
                if character == "\"" || character == "\\" { out += "\\" }
                out.unicodeScalars.append(character)
            }
            out += "\""
        }
        return out + "}"
    }

    /// The elements' texts (nil for NULL), or nil when the text is not a
    /// one-dimensional array literal.
    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> [[UInt8]?]? {
        var index = 0
        // Arrays with non-default bounds start with "[l:u]=".
        if text.first == UInt8(ascii: "[") {
            guard let equals = text.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            index = equals + 1
        }
        guard index < text.count, text[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        var elements: [[UInt8]?] = []
        if index < text.count, text[index] == UInt8(ascii: "}") {
            return index + 1 == text.count ? [] : nil
        }
        while index < text.count {
            var element: [UInt8] = []
            var quoted = false
            if text[index] == UInt8(ascii: "{") { return nil }  // multi-dimensional
            if text[index] == UInt8(ascii: "\"") {
                quoted = true
                index += 1
                while index < text.count, text[index] != UInt8(ascii: "\"") {
                    if text[index] == UInt8(ascii: "\\") { index += 1 }
                    guard index < text.count else { return nil }
                    element.append(text[index])
                    index += 1
                }
                index += 1  // closing quote
            } else {
                while index < text.count, text[index] != UInt8(ascii: ","), text[index] != UInt8(ascii: "}") {
                    element.append(text[index])
                    index += 1
                }
            }
            let isNull = !quoted && element.elementsEqual("NULL".utf8)
            elements.append(isNull ? nil : element)
            guard index < text.count else { return nil }
            if text[index] == UInt8(ascii: "}") { return index + 1 == text.count ? elements : nil }
            guard text[index] == UInt8(ascii: ",") else { return nil }
            index += 1
        }
        return nil
    }
}
