#pragma once
// Client errors, their classes and the CLI exit code of each class:
//   0 success, 1 command error (the server ran the command and refused it),
//   2 usage error (bad options or input files), 3 protocol or transport error.
#include <string>

#include "compat/expected.hpp"

namespace hgrpc::client {

enum class ErrorKind { Command, Usage, Protocol };

inline constexpr int kExitOk = 0;
inline constexpr int kExitCommand = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitProtocol = 3;

struct ClientError {
  ErrorKind kind;
  std::string message;
};

template <class T>
using ClientResult = hgrpc::expected<T, ClientError>;

inline hgrpc::unexpected<ClientError> client_fail(ErrorKind kind, std::string message) {
  return hgrpc::unexpected<ClientError>(ClientError{kind, std::move(message)});
}

inline int exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Command: return kExitCommand;
    case ErrorKind::Usage: return kExitUsage;
    case ErrorKind::Protocol: return kExitProtocol;
  }
  return kExitProtocol;
}

}  // namespace hgrpc::client
