#include "util/numbers.h"

#include <charconv>

namespace zkpilot {

std::optional<int64_t> ParseDecimalInteger(std::string_view text) {
  std::string_view digits = text.substr(text.empty() || text[0] != '-' ? 0 : 1);
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
  for (char c : digits)
    if (c < '0' || c > '9') return std::nullopt;
  int64_t value = 0;
  // from_chars reads exactly [-]digits, which is all the loop above let through.
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string NotAWholeNumber(std::string_view text) {
  return "expected integer (decimal digits, like 3), got \"" + std::string(text) + "\"";
}

Result<int64_t> ParseWholeNumber(std::string_view text, int64_t min, int64_t max) {
  const auto v = ParseDecimalInteger(text);
  if (!v) return Status::InvalidInput(NotAWholeNumber(text));
  if (*v < min || *v > max)
    return Status::InvalidInput("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                                std::string(text));
  return *v;
}

std::string DurationText(std::chrono::seconds d) {
  const int64_t s = d.count();
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

Result<std::chrono::seconds> ParseDuration(std::string_view text, std::chrono::seconds min, std::chrono::seconds max) {
  const std::string range = "must be between " + DurationText(min) + " and " + DurationText(max);
  std::string_view number = text;
  int64_t unit = 1;
  if (!text.empty() && (text.back() == 's' || text.back() == 'm' || text.back() == 'h')) {
    unit = text.back() == 'h' ? 3600 : text.back() == 'm' ? 60 : 1;
    number.remove_suffix(1);
  }
  const auto v = ParseDecimalInteger(number);
  if (!v)
    return Status::InvalidInput("\"" + std::string(text) +
                                "\" is not a duration: write whole seconds (90) or a whole number with a unit "
                                "(90s, 10m, 2h); it " + range);
  // Compared before multiplying: a huge count must not wrap around.
  if (*v < 0 || *v > max.count() / unit || *v * unit < min.count())
    return Status::InvalidInput(range + ", got " + std::string(text));
  return std::chrono::seconds(*v * unit);
}

}  // namespace zkpilot
