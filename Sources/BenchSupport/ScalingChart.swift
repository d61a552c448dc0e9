import Foundation

/// Throughput by number of worker processes, one bar per series (a
/// concurrency setting), beside a baseline (pgbench), as a small SVG the
/// README shows: the scaling guide's picture.
public struct ScalingChart {
    public struct Point {
        public var processes: Int
        public var series: String
        public var rate: Double

        public init(processes: Int, series: String, rate: Double) {
            self.processes = processes
            self.series = series
            self.rate = rate
        }
    }

    public var title: String
    public var points: [Point]
    /// A reference line (pgbench), if any.
    public var baseline: Double?
    public var baselineName: String

    public init(title: String, points: [Point], baseline: Double?, baselineName: String = "") {
        self.title = title
        self.points = points
        self.baseline = baseline
        self.baselineName = baselineName
    }

    public func svg() -> String {
        let width = 640.0, height = 360.0, left = 70.0, bottom = 300.0, top = 30.0
        let counts = Array(Set(points.map(\.processes))).sorted()
        let series = points.map(\.series).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let top_ = max(points.map(\.rate).max() ?? 1, baseline ?? 0) * 1.15
        let y = { (rate: Double) in bottom - (bottom - top) * rate / top_ }
        let groupWidth = (width - left - 20) / Double(max(counts.count, 1))
        let barWidth = groupWidth * 0.7 / Double(max(series.count, 1))
        let colours = ["#4C78A8", "#F58518", "#54A24B", "#B279A2", "#E45756"]
        var parts = [
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(height))" font-family="sans-serif" font-size="12">"#,
            #"<rect width="100%" height="100%" fill="white"/>"#,
            #"<text x="\#(left)" y="18" font-size="14">\#(title)</text>"#,
            #"<line x1="\#(left)" y1="\#(bottom)" x2="\#(width - 10)" y2="\#(bottom)" stroke="black"/>"#,
            #"<line x1="\#(left)" y1="\#(top)" x2="\#(left)" y2="\#(bottom)" stroke="black"/>"#,
        ]
        for step in 0...4 {
            let rate = top_ * Double(step) / 4
            parts.append(#"<text x="\#(left - 6)" y="\#(y(rate) + 4)" text-anchor="end">\#(Int(rate))</text>"#)
        }
        for (group, count) in counts.enumerated() {
            let x0 = left + Double(group) * groupWidth + groupWidth * 0.15
            for (index, name) in series.enumerated() {
                guard let point = points.first(where: { $0.processes == count && $0.series == name }) else { continue }
                let x = x0 + Double(index) * barWidth
                parts.append(#"<rect x="\#(x)" y="\#(y(point.rate))" width="\#(barWidth - 2)" height="\#(bottom - y(point.rate))" fill="\#(colours[index % colours.count])"/>"#)
                parts.append(#"<text x="\#(x + barWidth / 2 - 1)" y="\#(y(point.rate) - 4)" text-anchor="middle" font-size="10">\#(Int(point.rate))</text>"#)
            }
            parts.append(#"<text x="\#(x0 + groupWidth * 0.35)" y="\#(bottom + 16)" text-anchor="middle">\#(count) process\#(count == 1 ? "" : "es")</text>"#)
        }
        if let baseline {
            parts.append(#"<line x1="\#(left)" y1="\#(y(baseline))" x2="\#(width - 10)" y2="\#(y(baseline))" stroke="rgb(51,51,51)" stroke-dasharray="6 4"/>"#)
            parts.append(#"<text x="\#(width - 12)" y="\#(y(baseline) - 5)" text-anchor="end">\#(baselineName): \#(Int(baseline))</text>"#)
        }
        for (index, name) in series.enumerated() {
            let x = left + Double(index) * 170
            parts.append(#"<rect x="\#(x)" y="\#(bottom + 30)" width="12" height="12" fill="\#(colours[index % colours.count])"/>"#)
            parts.append(#"<text x="\#(x + 16)" y="\#(bottom + 40)">\#(name)</text>"#)
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n") + "\n"
    }
}
