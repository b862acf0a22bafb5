/// A binary min-heap of timed events; ties go in insertion order, so a run is reproducible from its seed.
struct EventQueue<Payload> {
    private var heap: [(time: UInt64, order: UInt64, payload: Payload)] = []
    private var inserted: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var nextTime: UInt64? { heap.first?.time }

    mutating func push(_ payload: Payload, at time: UInt64) {
        inserted += 1
        heap.append((time, inserted, payload))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard before(child, parent) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (time: UInt64, payload: Payload)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && before(left, smallest) { smallest = left }
            if right < heap.count && before(right, smallest) { smallest = right }
            guard smallest != parent else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return (top.time, top.payload)
    }

    private func before(_ a: Int, _ b: Int) -> Bool { (heap[a].time, heap[a].order) < (heap[b].time, heap[b].order) }
}
