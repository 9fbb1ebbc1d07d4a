#include "platform/local/jar_manifest.h"

#include <sys/stat.h>
#include <zip.h>

#include <cctype>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>

namespace zkpilot {
namespace {

bool EndsWithJar(const std::string& s) {
  if (s.size() < 4) return false;
  std::string tail = s.substr(s.size() - 4);
  for (auto& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return tail == ".jar";
}

bool IsRegularFile(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string ManifestClassPath(const std::string& manifest) {
  // Manifest format (JAR File Specification): "Name: value" lines of at most
  // 72 bytes, a longer value continued on lines that start with one space;
  // the main section ends at the first empty line.
  // Lines end in CR LF, LF or CR alone.
  std::string text = manifest;
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') text.erase(i, 1);
      else text[i] = '\n';
    }
  std::istringstream in(text);
  std::string value;
  bool in_class_path = false;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) break;  // end of the main section
    if (line[0] == ' ') {
      if (in_class_path) value += line.substr(1);
      continue;
    }
    in_class_path = false;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name != "class-path") continue;
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    in_class_path = true;
  }
  return value;
}

std::vector<std::string> ResolveManifestEntries(const std::string& jar_path, const std::string& class_path) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::istringstream in(class_path);
  const fs::path dir = fs::path(jar_path).parent_path();
  for (std::string entry; in >> entry;) {
    if (entry.rfind("file:", 0) == 0) {
      entry = entry.substr(5);
    } else {
      // A scheme ("http:", "jar:") before any '/': not a file-system entry.
      const auto colon = entry.find(':');
      if (colon != std::string::npos && entry.find('/') > colon) continue;
    }
    entry = PercentDecode(entry);
    if (entry.empty()) continue;
    fs::path p = entry[0] == '/' ? fs::path(entry) : dir / entry;
    std::string resolved = p.lexically_normal().string();
    // lexically_normal keeps a trailing '/' of a directory entry.
    out.push_back(resolved);
  }
  return out;
}

Result<std::string> ReadJarManifest(const std::string& jar_path) {
  int error = 0;
  std::unique_ptr<zip_t, decltype(&zip_close)> archive(zip_open(jar_path.c_str(), ZIP_RDONLY, &error), &zip_close);
  if (!archive) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, error);
    std::string message = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    return Status::IOError(jar_path + ": " + message);
  }
  zip_stat_t st;
  zip_stat_init(&st);
  // The JDK finds the manifest whatever the case of its name (JarFile).
  if (zip_stat(archive.get(), "META-INF/MANIFEST.MF", ZIP_FL_NOCASE, &st) != 0) return std::string();
  if ((st.valid & ZIP_STAT_SIZE) == 0 || st.size > (1u << 24))
    return Status::IOError(jar_path + ": META-INF/MANIFEST.MF has no usable size");
  std::unique_ptr<zip_file_t, decltype(&zip_fclose)> file(zip_fopen_index(archive.get(), st.index, 0), &zip_fclose);
  if (!file) return Status::IOError(jar_path + ": " + zip_strerror(archive.get()));
  std::string text(static_cast<size_t>(st.size), '\0');
  zip_int64_t got = 0;
  while (got < static_cast<zip_int64_t>(text.size())) {
    zip_int64_t n = zip_fread(file.get(), text.data() + got, text.size() - static_cast<size_t>(got));
    if (n < 0) return Status::IOError(jar_path + ": reading META-INF/MANIFEST.MF: " + zip_file_strerror(file.get()));
    if (n == 0) break;
    got += n;
  }
  text.resize(static_cast<size_t>(got));
  return text;
}

Result<std::vector<std::string>> ExpandManifestClassPath(const std::vector<std::string>& classpath,
                                                         const ManifestReader& read) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  // Depth first, as URLClassPath pushes a jar's Class-Path in front of the
  // entries still to open.
  std::function<Status(const std::string&, const std::string&, int)> visit =
      [&](const std::string& entry, const std::string& named_by, int depth) -> Status {
    if (!seen.insert(entry).second) return Status::Ok();
    if (!named_by.empty()) {
      struct stat st{};
      if (::stat(entry.c_str(), &st) != 0) return Status::Ok();  // the class loader skips it too
      if (!EndsWithJar(entry) || !S_ISREG(st.st_mode))
        return Status::InvalidInput(named_by + "'s manifest names " + entry + ", which is not a jar");
    }
    out.push_back(entry);
    if (!EndsWithJar(entry) || !IsRegularFile(entry)) return Status::Ok();
    if (depth > 32) return Status::InvalidInput(entry + ": Class-Path attributes nested too deep");
    ZK_ASSIGN_OR_RETURN(std::string manifest, read(entry));
    for (const auto& next : ResolveManifestEntries(entry, ManifestClassPath(manifest)))
      ZK_RETURN_IF_ERROR(visit(next, entry, depth + 1));
    return Status::Ok();
  };
  for (const auto& entry : classpath) ZK_RETURN_IF_ERROR(visit(entry, "", 0));
  return out;
}

}  // namespace zkpilot
