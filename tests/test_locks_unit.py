"""The collection's readers-writer lock."""

import threading
import time

from vecinfer.storage.locks import ReadWriteLock


def test_readers_share_and_a_writer_waits_for_them():
    lock = ReadWriteLock()
    inside, most = [0], [0]
    gate = threading.Barrier(3)

    def reader():
        with lock.reading():
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            gate.wait(timeout=5)  # all three readers are inside at once
            inside[0] -= 1

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert most[0] == 3

    order = []
    with lock.reading():
        writer = threading.Thread(target=lambda: (lock.acquire_write(), order.append("write"), lock.release_write()))
        writer.start()
        time.sleep(0.1)
        order.append("read done")
    writer.join(5)
    assert order == ["read done", "write"]


def test_writer_reenters_and_reads_inside_its_write():
    lock = ReadWriteLock()
    with lock:
        with lock:
            with lock.reading():
                pass
    with lock.reading():  # released completely
        pass
