import PipelineCore

/// The pages a range read has sent and not yet seen acknowledged, oldest
/// first, bounded by pages and by bytes so memory stays small while the
/// producer's queue stays full.
///
/// Pages leave only from the front: the offset a page completes is stored
/// only after it and every page before it were acknowledged, so no stored
/// offset ever passes an unacknowledged row.
struct SendWindow {
    /// What is kept of a sent page to advance the offset once it is acknowledged.
    struct Page {
        /// Rows in the page, sent now or skipped as delivered by an earlier run.
        var rows: Int
        /// Key and value bytes of the rows.
        var bytes: Int
        /// See ``TableTask/Page/complete`` and ``TableTask/Page/covered``.
        var complete: SourceOffset?
        var covered: Int
        /// Rows (by index in the page) an earlier run delivered, and where.
        var skipped: [Int: DeliveredRecords.Position]
        var delivery: PendingDelivery
    }

    /// At most this many pages in flight (at the default `batch.max.rows` of
    /// 100, 6,400 rows).
    static let maximumPages = 64
    /// At most about this many bytes in flight; one page always fits.
    static let maximumBytes = 8 << 20

    private var pages: [Page] = []
    private var head = 0
    private var bytes = 0

    var count: Int { pages.count - head }
    var isEmpty: Bool { count == 0 }

    /// Whether a page of `more` bytes must wait for the oldest to be acknowledged.
    func isFull(adding more: Int) -> Bool {
        guard !isEmpty else { return false }
        return count >= SendWindow.maximumPages || bytes + more > SendWindow.maximumBytes
    }

    mutating func add(_ page: Page) {
        pages.append(page)
        bytes += page.bytes
    }

    /// The oldest page; the window must not be empty.
    mutating func removeOldest() -> Page {
        let page = pages[head]
        head += 1
        bytes -= page.bytes
        if head == pages.count {
            pages.removeAll(keepingCapacity: true)
            head = 0
        }
        return page
    }
}
