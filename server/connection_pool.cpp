#include "server/connection_pool.hpp"

#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "server/connection_stream.hpp"
#include "server/request_head.hpp"

namespace hgrpc::server {

using Clock = std::chrono::steady_clock;

namespace {

// Bytes the poller reads from one connection per wake-up.
constexpr std::size_t kPollerRead = 16 * 1024;

// Writes what the socket takes now; a refusal is small and the socket new.
void send_now(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Whether bytes (not only an EOF) wait in the socket's receive buffer.
bool has_pending_bytes(int fd) {
  char byte;
  return ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

}  // namespace

std::string raw_response(int status, std::string_view reason, std::string_view text) {
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}Connection: "
      "close\r\n\r\n{}\n",
      status, reason, text.size() + 1, status == 503 ? "Retry-After: 1\r\n" : "", text);
}

// A connection the pool owns (between accept and close).
struct ConnectionPool::Connection {
  enum class State { New, Idle, Head, Lingering };

  int fd = -1;
  std::string peer;
  int port = 0;
  bool counted = false;      // in open_ (and per_client_ if per_client)
  bool per_client = false;   // counted under per_client_[peer]
  State state = State::New;
  std::string buffer;        // received, not yet consumed by a request
  Clock::time_point head_deadline;  // New/Head: the whole head must be in by then
  Clock::time_point deadline;       // when the poller closes it
  std::multimap<Clock::time_point, int>::iterator deadline_entry;
  bool has_deadline_entry = false;
  std::size_t served = 0;
};

ConnectionPool::ConnectionPool(PoolLimits limits, ConnectionCounters& counters, Serve serve,
                               Trusted trusted)
    : limits_(limits), counters_(counters), serve_(std::move(serve)), trusted_(std::move(trusted)) {
  limits_.max_workers = std::max<std::size_t>(1, limits_.max_workers);
  limits_.min_workers = std::min(limits_.min_workers, limits_.max_workers);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0)
    throw std::runtime_error(std::string("connection pool: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  poller_ = std::thread([this] { poll_loop(); });
  // Warm workers: started now, kept when idle.
  std::lock_guard lock(work_mutex_);
  while (workers_ < limits_.min_workers && spawn_worker()) {
  }
}

ConnectionPool::~ConnectionPool() {
  shutdown();
  ::close(epoll_fd_);
  ::close(wake_fd_);
}

void ConnectionPool::admit(int fd) {
  auto c = std::make_unique<Connection>();
  c->fd = fd;
  std::tie(c->peer, c->port) = peer_of(fd);
  const auto now = Clock::now();
  c->head_deadline = now + limits_.header_timeout;
  c->deadline = std::min(c->head_deadline, now + limits_.read_timeout);
  if (stopping_) return close_now(std::move(c));
  {
    std::lock_guard lock(clients_mutex_);
    if (open_ >= limits_.max_open) {
      return refuse(std::move(c), Refusal::MaxOpenConnections, 503, "Service Unavailable",
                    fmt::format("too many connections (--max-open-connections {})", limits_.max_open));
    }
    if (limits_.max_per_client != 0 && !trusted_(c->peer)) {
      auto& n = per_client_[c->peer];
      if (n >= limits_.max_per_client) {
        // The message first: the order in which arguments are evaluated is
        // unspecified, and refuse() takes c away.
        auto message = fmt::format("too many connections from {} (--max-connections-per-client {})", c->peer,
                                   limits_.max_per_client);
        return refuse(std::move(c), Refusal::MaxConnectionsPerClient, 503, "Service Unavailable", std::move(message));
      }
      ++n;
      c->per_client = true;
    }
    ++open_;
    c->counted = true;
  }
  counters_.open.fetch_add(1, std::memory_order_relaxed);
  to_poller(std::move(c));
}

void ConnectionPool::release(Connection& c) {
  if (!c.counted) return;
  c.counted = false;
  {
    std::lock_guard lock(clients_mutex_);
    --open_;
    if (c.per_client) {
      auto it = per_client_.find(c.peer);
      if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
    }
  }
  counters_.open.fetch_sub(1, std::memory_order_relaxed);
}

void ConnectionPool::close_now(Owned c) {
  release(*c);
  if (c->state == Connection::State::Lingering) lingering_.fetch_sub(1, std::memory_order_relaxed);
  ::close(c->fd);
}

void ConnectionPool::refuse(Owned c, Refusal why, int status, std::string_view reason,
                            std::string_view text) {
  counters_.refuse(why);
  // Whatever already arrived is dropped first: unread bytes would turn the
  // close into a reset that can destroy the answer before the client reads it.
  char sink[4096];
  while (::recv(c->fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
  }
  send_now(c->fd, raw_response(status, reason, text));
  linger(std::move(c));
}

void ConnectionPool::linger(Owned c) {
  release(*c);
  ::shutdown(c->fd, SHUT_WR);
  if (lingering_.fetch_add(1, std::memory_order_relaxed) >= kMaxLingering) {
    lingering_.fetch_sub(1, std::memory_order_relaxed);
    ::close(c->fd);
    return;
  }
  c->state = Connection::State::Lingering;
  c->buffer = {};
  c->deadline = Clock::now() + kLingerTime;
  to_poller(std::move(c));
}

void ConnectionPool::to_poller(Owned c) {
  {
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back(std::move(c));
  }
  wake_poller();
}

void ConnectionPool::wake_poller() {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

bool ConnectionPool::spawn_worker() {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kWorkerStackBytes);
  pthread_t t;
  const int err = pthread_create(&t, &attr, [](void* self) -> void* {
    static_cast<ConnectionPool*>(self)->worker_loop();
    return nullptr;
  }, this);
  pthread_attr_destroy(&attr);
  if (err != 0) return false;
  ++workers_;
  counters_.workers.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// ---- poller thread ----

void ConnectionPool::poll_loop() {
  std::vector<epoll_event> events(256);
  while (!poller_stop_) {
    int timeout_ms = -1;
    std::optional<Clock::time_point> wake_at;
    if (!deadlines_.empty()) wake_at = deadlines_.begin()->first;
    if (worked_since_trim_ && (!wake_at || next_trim_ < *wake_at)) wake_at = next_trim_;
    if (wake_at) {
      const auto wait = *wake_at - Clock::now();
      timeout_ms = static_cast<int>(std::max<std::int64_t>(
          0, std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
    }
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int i = 0; i < n; ++i) {
      const int fd = events[static_cast<std::size_t>(i)].data.fd;
      if (fd == wake_fd_) {
        std::uint64_t v;
        [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
        continue;
      }
      auto it = waiting_.find(fd);
      if (it != waiting_.end()) on_readable(*it->second);
    }
    take_inbox();
    expire(Clock::now());
    if (has_exited_) reap_exited();
    trim_when_idle(Clock::now());
    if (stopping_) {
      // No new requests: close every connection still waiting for one.
      std::vector<int> fds;
      for (const auto& [fd, c] : waiting_)
        if (c->state != Connection::State::Lingering) fds.push_back(fd);
      for (int fd : fds) close_now(unwatch(fd));
    }
  }
  for (auto& [fd, c] : waiting_) {
    // What a lingering client sent since the last read is dropped first: a
    // close over unread bytes resets the connection, and the reset can
    // destroy the answer before the client has read it.
    char sink[4096];
    if (c->state == Connection::State::Lingering)
      while (::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
      }
    close_now(std::move(c));
  }
  waiting_.clear();
  deadlines_.clear();
  std::vector<Owned> rest;
  {
    std::lock_guard lock(inbox_mutex_);
    rest.swap(inbox_);
  }
  for (auto& c : rest) close_now(std::move(c));
}

void ConnectionPool::take_inbox() {
  std::vector<Owned> arrived;
  {
    std::lock_guard lock(inbox_mutex_);
    arrived.swap(inbox_);
  }
  for (auto& c : arrived) {
    if (stopping_ && c->state != Connection::State::Lingering) {
      close_now(std::move(c));
      continue;
    }
    watch(std::move(c));
  }
}

void ConnectionPool::watch(Owned c) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.fd = c->fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c->fd, &ev) != 0) return close_now(std::move(c));
  if (c->state != Connection::State::Lingering)
    counters_.waiting.fetch_add(1, std::memory_order_relaxed);
  Connection& ref = *c;
  waiting_.emplace(c->fd, std::move(c));
  set_deadline(ref, ref.deadline);
}

ConnectionPool::Owned ConnectionPool::unwatch(int fd) {
  auto it = waiting_.find(fd);
  Owned c = std::move(it->second);
  waiting_.erase(it);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  if (c->has_deadline_entry) deadlines_.erase(c->deadline_entry);
  c->has_deadline_entry = false;
  if (c->state != Connection::State::Lingering)
    counters_.waiting.fetch_sub(1, std::memory_order_relaxed);
  return c;
}

void ConnectionPool::set_deadline(Connection& c, Clock::time_point when) {
  if (c.has_deadline_entry) deadlines_.erase(c.deadline_entry);
  c.deadline = when;
  c.deadline_entry = deadlines_.emplace(when, c.fd);
  c.has_deadline_entry = true;
}

void ConnectionPool::expire(Clock::time_point now) {
  using S = Connection::State;
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const int fd = deadlines_.begin()->second;
    if (Connection& idle = *waiting_.at(fd); idle.state == S::Idle && has_pending_bytes(fd)) {
      // The next request arrived as the keep-alive timeout expired (after
      // this round's epoll_wait): closing now would reset it unanswered.
      set_deadline(idle, now + limits_.read_timeout);
      on_readable(idle);
      continue;
    }
    Owned c = unwatch(fd);
    if (c->state == S::Idle) counters_.time_out(Timeout::KeepAlive);
    if (c->state == S::New || c->state == S::Head) counters_.time_out(Timeout::Header);
    // A head that is not complete in time gets no answer (as with nginx's
    // client_header_timeout): the client is slow or not speaking HTTP.
    close_now(std::move(c));
  }
}

void ConnectionPool::on_readable(Connection& c) {
  using S = Connection::State;
  char chunk[kPollerRead];
  const auto n = ::recv(c.fd, chunk, sizeof chunk, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) return close_now(unwatch(c.fd));  // EOF or reset
  if (c.state == S::Lingering) return;        // dropped
  const auto now = Clock::now();
  if (c.state == S::Idle) c.head_deadline = now + limits_.header_timeout;
  c.state = S::Head;
  c.buffer.append(chunk, static_cast<std::size_t>(n));
  if (const auto size = head_size(c.buffer)) {
    Owned owned = unwatch(c.fd);
    const auto refusal = head_refusal(std::string_view(owned->buffer).substr(0, *size));
    if (!refusal.empty()) {
      return refuse(std::move(owned), Refusal::BadHead, 416, "Range Not Satisfiable", refusal);
    }
    return dispatch(std::move(owned));
  }
  if (c.buffer.size() > kMaxHeadBytes) {
    return refuse(unwatch(c.fd), Refusal::BadHead, 431, "Request Header Fields Too Large",
                  fmt::format("the request head exceeds {} bytes", kMaxHeadBytes));
  }
  set_deadline(c, std::min(c.head_deadline, now + limits_.read_timeout));
}

void ConnectionPool::dispatch(Owned c) {
  if (stopping_) return close_now(std::move(c));
  std::unique_lock lock(work_mutex_);
  if (workers_stop_) {
    // shutdown() began between the check above and the lock: a job queued
    // now could find no worker, or start one that shutdown() never waits for.
    lock.unlock();
    return close_now(std::move(c));
  }
  if (idle_ > jobs_.size()) {
    jobs_.push_back(std::move(c));
    lock.unlock();
    work_cv_.notify_one();
    return;
  }
  if (workers_ < limits_.max_workers && spawn_worker()) {
    jobs_.push_back(std::move(c));
    return;
  }
  const std::size_t busy = workers_;
  lock.unlock();
  refuse(std::move(c), Refusal::MaxConnections, 503, "Service Unavailable",
         fmt::format("all {} workers are busy (--max-connections {})", busy, limits_.max_workers));
}

// ---- workers ----

void ConnectionPool::worker_loop() {
  std::unique_lock lock(work_mutex_);
  for (;;) {
    ++idle_;
    const bool woken = work_cv_.wait_for(lock, kWorkerIdle, [&] { return !jobs_.empty() || workers_stop_; });
    --idle_;
    if (!jobs_.empty()) {
      Owned c = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      counters_.busy.fetch_add(1, std::memory_order_relaxed);
      serve(std::move(c));
      if (counters_.busy.fetch_sub(1, std::memory_order_relaxed) == 1) {
        worked_since_trim_ = true;  // the last busy worker: the poller may trim
        wake_poller();
      }
      lock.lock();
      continue;
    }
    if (workers_stop_ || (!woken && workers_ > limits_.min_workers)) break;
  }
  --workers_;
  counters_.workers.fetch_sub(1, std::memory_order_relaxed);
  exited_.push_back(pthread_self());
  has_exited_ = true;
  workers_done_cv_.notify_all();
  lock.unlock();
  wake_poller();  // it joins this thread
}

void ConnectionPool::reap_exited() {
  std::vector<pthread_t> done;
  bool back_to_warm = false;
  {
    std::lock_guard lock(work_mutex_);
    done.swap(exited_);
    has_exited_ = false;
    back_to_warm = !workers_stop_ && workers_ == limits_.min_workers;
  }
  for (pthread_t t : done) pthread_join(t, nullptr);
  // The burst that started the extra workers is over: give the memory their
  // malloc arenas kept back to the system (glibc keeps freed blocks below
  // the mmap threshold in each arena; a burst of 64 large responses left
  // ~200 MiB resident). After the joins: thread exit frees their TLS too.
  if (done.empty() || !back_to_warm) return;
  if (on_quiet_) on_quiet_();
  malloc_trim(0);
}

void ConnectionPool::trim_when_idle(Clock::time_point now) {
  // Every worker idle after some work: give back what the requests' malloc
  // arenas kept (freed blocks below the mmap threshold stay in each arena;
  // 8 clients of 8 MiB responses left 40-126 MiB resident). At most once per
  // kIdleTrimInterval, as a busy server may go idle between any two requests.
  if (!worked_since_trim_ || counters_.busy.load(std::memory_order_relaxed) != 0 || now < next_trim_) return;
  worked_since_trim_ = false;
  next_trim_ = now + kIdleTrimInterval;
  malloc_trim(0);
}

void ConnectionPool::serve(Owned c) {
  using S = Connection::State;
  for (;;) {
    const bool last = ++c->served >= limits_.keep_alive_max || stopping_;
    bool again = false;
    {
      ConnectionStream stream(c->fd, c->buffer, c->peer, c->port, limits_.read_timeout,
                              limits_.write_timeout);
      ConnectionStream::Serving serving(stream);
      again = serve_(stream, last);
    }
    if (!again || last || stopping_) return linger(std::move(c));
    if (c->buffer.empty()) {
      pollfd p{c->fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(kNextRequestWait.count())) > 0) {
        char chunk[kPollerRead];
        const auto n = ::recv(c->fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
          return close_now(std::move(c));  // the client left
        if (n > 0) c->buffer.append(chunk, static_cast<std::size_t>(n));
      }
    }
    const auto now = Clock::now();
    if (const auto size = head_size(c->buffer)) {
      // A pipelined request, or the next one: already here.
      if (!head_refusal(std::string_view(c->buffer).substr(0, *size)).empty()) return linger(std::move(c));
      continue;
    }
    if (c->buffer.empty()) {
      c->state = S::Idle;
      c->deadline = now + limits_.keep_alive_timeout;
    } else {
      c->state = S::Head;
      c->head_deadline = now + limits_.header_timeout;
      c->deadline = std::min(c->head_deadline, now + limits_.read_timeout);
    }
    return to_poller(std::move(c));
  }
}

void ConnectionPool::shutdown() {
  {
    std::lock_guard lock(work_mutex_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  stopping_ = true;
  wake_poller();  // it closes the waiting connections
  {
    std::unique_lock lock(work_mutex_);
    workers_stop_ = true;
    work_cv_.notify_all();
    workers_done_cv_.wait(lock, [&] { return workers_ == 0; });
  }
  reap_exited();
  poller_stop_ = true;
  wake_poller();
  poller_.join();
}

}  // namespace hgrpc::server
