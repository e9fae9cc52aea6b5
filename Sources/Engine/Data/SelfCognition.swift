import Foundation

/// The built-in `swift/self-cognition` dataset (also `modelscope/self-cognition` and
/// `self-cognition`): query/response rows tagged `en` or `zh` whose `{{NAME}}` and `{{AUTHOR}}`
/// are filled from `model_name` and `model_author` — each a list of [Chinese, English]; the zh
/// rows take the first, the en rows the second, and a single value serves both. An unset name
/// leaves its placeholder in the text, as ms-swift does.
///
/// Subsets, as ms-swift registers them over the same rows: `default`; `qwen3` (the query gets
/// " /no_think" and the reply an empty think block in front); `empty_think` (only the empty
/// think block). `all` is the three together.
enum SelfCognition {
    static let ids: Set<String> = ["swift/self-cognition", "modelscope/self-cognition", "self-cognition"]
    static let subsetNames = ["default", "qwen3", "empty_think"]
    static let emptyThink = "<think>\n\n</think>\n\n"

    struct Row: Equatable { var tag: String; var query: String; var response: String }

    /// The rows with the names filled in, in their built-in order (English first, then Chinese).
    static func rows(modelName: [String], modelAuthor: [String]) -> [Row] {
        func pick(_ values: [String], zh: Bool) -> String? {
            guard let first = values.first else { return nil }
            return zh ? first : (values.count > 1 ? values[1] : first)
        }
        func fill(_ text: String, zh: Bool) -> String {
            var s = text
            if let n = pick(modelName, zh: zh) { s = s.replacingOccurrences(of: "{{NAME}}", with: n) }
            if let a = pick(modelAuthor, zh: zh) { s = s.replacingOccurrences(of: "{{AUTHOR}}", with: a) }
            return s
        }
        return SelfCognitionRows.english.map { Row(tag: "en", query: fill($0.query, zh: false), response: fill($0.response, zh: false)) }
            + SelfCognitionRows.chinese.map { Row(tag: "zh", query: fill($0.query, zh: true), response: fill($0.response, zh: true)) }
    }

    /// The conversations of the chosen subsets, one line number per row (counted across subsets).
    static func conversations(subsets: [String], modelName: [String], modelAuthor: [String], name: String) throws -> [Conversation] {
        var chosen = subsets.isEmpty ? ["default"] : subsets
        if chosen == ["all"] { chosen = subsetNames }
        let base = rows(modelName: modelName, modelAuthor: modelAuthor)
        var out: [Conversation] = []
        for subset in chosen {
            let querySuffix: String, responsePrefix: String
            switch subset {
            case "default": (querySuffix, responsePrefix) = ("", "")
            case "qwen3": (querySuffix, responsePrefix) = (" /no_think", emptyThink)
            case "empty_think": (querySuffix, responsePrefix) = ("", emptyThink)
            default:
                throw DatasetError(file: name, problem: "unknown subset '\(subset)'; \(name) has \(subsetNames.joined(separator: ", ")) (or all)")
            }
            for r in base {
                out.append(Conversation(messages: [ChatMessage(role: "user", content: r.query + querySuffix),
                                                   ChatMessage(role: "assistant", content: responsePrefix + r.response)],
                                        file: name, line: out.count + 1))
            }
        }
        return out
    }
}
