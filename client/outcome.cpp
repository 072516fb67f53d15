#include "client/outcome.hpp"

namespace hgrpc::client {
namespace {

std::string as_text(const json& v) {
  if (auto s = framing::bytes_or_text(v)) return std::move(*s);
  return v.dump();
}

json lookup(const json& map, const char* key) {
  auto it = map.find(key);
  return it == map.end() ? json() : *it;
}

std::string format_atom(const json& atom) {
  if (!atom.is_object()) return as_text(atom);
  std::string msg = as_text(lookup(atom, "msg"));
  json args = lookup(atom, "args");
  if (!args.is_array() || args.empty()) return msg;
  std::string out;
  std::size_t next_arg = 0;
  for (std::size_t i = 0; i < msg.size(); ++i) {
    if (msg[i] == '%' && i + 1 < msg.size()) {
      char c = msg[i + 1];
      if (c == '%') {
        out += '%';
        ++i;
        continue;
      }
      if (c == 's' || c == 'd' || c == 'r') {
        out += next_arg < args.size() ? as_text(args[next_arg++]) : std::string("%") + c;
        ++i;
        continue;
      }
    }
    out += msg[i];
  }
  return out;
}

}  // namespace

std::string format_error_message(const json& message) {
  if (message.is_array()) {
    std::string out;
    for (const auto& atom : message) out += format_atom(atom);
    return out;
  }
  if (message.is_null()) return "(no message)";
  return as_text(message);
}

void InOrderRelease::put(std::size_t index, Outcome outcome) {
  if (index != next_) {
    held_.emplace(index, std::move(outcome));
    return;
  }
  sink_(next_++, std::move(outcome));
  for (auto it = held_.find(next_); it != held_.end(); it = held_.find(next_)) {
    Outcome o = std::move(it->second);
    held_.erase(it);
    sink_(next_++, std::move(o));
  }
}

}  // namespace hgrpc::client
