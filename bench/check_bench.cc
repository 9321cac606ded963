// The per-request check when nothing changed, at 10 to 10,000 tracked files:
// inotify (one ioctl(FIONREAD) on the inotify descriptor and a few atomic
// loads: a check that starts after a save always sees it), stat polling at
// every request (the forced-polling path with interval 0: one stat per
// file), polling with a 1 s interval (one clock read between full checks),
// and the naive baseline that is not part of pyfresh: stat() every module
// file on every request and compare what it returns with what was
// recorded. BM_EmptySyscall (getppid) is the floor of any check that asks
// the kernel: a syscall's cost varies between VMs of the same kind, so the
// report gives the inotify check as a ratio to it.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pyfresh/change_detector.h"
#include "pyfresh/directory_watcher.h"
#include "pyfresh/filesystem.h"

namespace {

// Files spread over directories of 50, like the modules of a package tree.
// Each size is created once and shared by every benchmark and repetition
// (creating 10,000 files took seconds on a VM); RemoveTrees() deletes them.
std::map<int, std::vector<std::string>>& Trees() {
  static auto* trees = new std::map<int, std::vector<std::string>>();
  return *trees;
}

const std::vector<std::string>& MakeTree(int files) {
  auto found = Trees().find(files);
  if (found != Trees().end()) return found->second;
  char pattern[] = "/tmp/pyfresh-bench-XXXXXX";
  std::string root = mkdtemp(pattern);
  std::vector<std::string> paths;
  for (int i = 0; i < files; ++i) {
    std::string directory = root + "/pkg" + std::to_string(i / 50);
    if (i % 50 == 0) mkdir(directory.c_str(), 0755);
    std::string path = directory + "/module" + std::to_string(i) + ".py";
    int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd >= 0) {
      (void)!write(fd, "x = 1\n", 6);
      close(fd);
    }
    paths.push_back(path);
  }
  return Trees().emplace(files, std::move(paths)).first->second;
}

void RemoveTrees() {
  for (const auto& tree : Trees()) {
    const std::string& first = tree.second.front();
    std::string command = "rm -rf '" + first.substr(0, first.find("/pkg")) + "'";
    (void)!std::system(command.c_str());
  }
  Trees().clear();
}

void RunCheck(benchmark::State& state, bool polling, double interval_seconds) {
  static const char* kLabel[] = {"inotify", "poll"};
  const std::vector<std::string>& paths = MakeTree(static_cast<int>(state.range(0)));
  pyfresh::DetectorOptions options;
  options.force_polling = polling;
  options.poll_interval_ns = static_cast<int64_t>(interval_seconds * 1e9);
  pyfresh::ChangeDetector detector(options, pyfresh::RealFilesystem(), pyfresh::RealClock(),
                                   pyfresh::CreateInotifyWatcher, [](pyfresh::LogLevel, std::string_view) {});
  detector.Track(paths);
  detector.Check();  // starts watching and does the one full comparison
  for (auto _ : state) {
    benchmark::DoNotOptimize(detector.Check());
  }
  state.SetLabel(kLabel[polling ? 1 : 0]);
  state.counters["files"] = static_cast<double>(paths.size());
}

// The naive baseline (bench only): what a reloader without change
// notification does per request to serve new code on the very next one.
struct NaiveEntry {
  std::string path;
  struct timespec mtime;
  struct timespec ctime;
  off_t size;
  ino_t inode;
};

bool NaiveCheck(const std::vector<NaiveEntry>& entries) {
  bool changed = false;
  for (const NaiveEntry& entry : entries) {
    struct stat st;
    if (stat(entry.path.c_str(), &st) != 0 || st.st_mtim.tv_sec != entry.mtime.tv_sec ||
        st.st_mtim.tv_nsec != entry.mtime.tv_nsec || st.st_ctim.tv_sec != entry.ctime.tv_sec ||
        st.st_ctim.tv_nsec != entry.ctime.tv_nsec || st.st_size != entry.size || st.st_ino != entry.inode) {
      changed = true;
    }
  }
  return changed;
}

void BM_CheckNaiveStatAll(benchmark::State& state) {
  const std::vector<std::string>& paths = MakeTree(static_cast<int>(state.range(0)));
  std::vector<NaiveEntry> entries;
  for (const std::string& path : paths) {
    struct stat st;
    if (stat(path.c_str(), &st) == 0) entries.push_back({path, st.st_mtim, st.st_ctim, st.st_size, st.st_ino});
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(NaiveCheck(entries));
  }
  state.SetLabel("naive");
  state.counters["files"] = static_cast<double>(paths.size());
}

void BM_EmptySyscall(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(getppid());
  }
  state.SetLabel("getppid");
}

void BM_CheckInotify(benchmark::State& state) { RunCheck(state, false, 0); }
void BM_CheckPollEveryRequest(benchmark::State& state) { RunCheck(state, true, 0); }
void BM_CheckPollInterval1s(benchmark::State& state) { RunCheck(state, true, 1.0); }

BENCHMARK(BM_EmptySyscall);
BENCHMARK(BM_CheckInotify)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_CheckPollEveryRequest)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_CheckPollInterval1s)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_CheckNaiveStatAll)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  RemoveTrees();
  return 0;
}
