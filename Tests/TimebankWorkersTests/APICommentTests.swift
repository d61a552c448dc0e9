import Foundation
import TestSupport
import TimebankOperations
import Testing

/// Issue 17: the api explains itself. Every function of schema `api` has a
/// COMMENT (`\df+ api.*`, docs/api.md), in Chinese and in English, that
/// names each of its arguments: a function added or given an argument
/// without saying what it is fails here.
@Suite struct APICommentTests {
    /// A comment's identifiers and words: runs of ASCII letters, digits and underscores.
    static func words(_ comment: String) -> [Substring] {
        comment.split { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_")) }
    }

    /// The words of a comment that are English prose: Latin words other than
    /// the arguments' names and other identifiers (`staff_code`), so that a
    /// Chinese comment naming its arguments does not pass as English.
    static func englishWords(_ comment: String, arguments: [String]) -> Int {
        words(comment).filter { word in word.count > 1 && word.allSatisfy(\.isLetter) && !arguments.contains(String(word)) }.count
    }

    @Test func everyAPIFunctionSaysInChineseAndEnglishWhatItDoesAndWhatEachArgumentIs() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            let functions = try await APICatalog.functions(connection)
            await connection.close()
            #expect(functions.count > 40, "the catalog's api was not read: \(functions.count) functions")
            for function in functions {
                guard let comment = function.comment else {
                    Issue.record("\(function.signature) has no COMMENT (put one after its definition in sql/functions/api/)")
                    continue
                }
                #expect(comment.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) },
                        "\(function.name)'s comment has no Chinese")
                #expect(Self.englishWords(comment, arguments: function.argumentNames) >= 5, "\(function.name)'s comment has no English")
                let named = Set(Self.words(comment).map(String.init))
                let unnamed = function.argumentNames.filter { !named.contains($0) }
                #expect(unnamed.isEmpty, "\(function.name)'s comment does not name its arguments \(unnamed)")
            }
        }
    }
}
