/*
 * The checker bench's listener: accept every connection and close it, nothing else, with
 * as little CPU as a process can spend on it, so 10,000 connections a second never
 * overflow the accept queue on a busy 2-core host (a Node listener did, and the checker's
 * connects then waited for SYN retransmits). Prints "listening", then every second its
 * CPU time in microseconds ("cpu USER SYS").
 *
 *   cc -O2 -o accept-close accept-close.c && ./accept-close PORT
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 47999;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 65535) < 0) { perror("listen"); return 1; }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  printf("listening\n");
  fflush(stdout);
  struct timespec last;
  clock_gettime(CLOCK_MONOTONIC, &last);
  for (;;) {
    struct epoll_event out;
    if (epoll_wait(ep, &out, 1, 200) > 0) {
      for (int c; (c = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0;) close(c);
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec != last.tv_sec) {
      struct rusage ru;
      getrusage(RUSAGE_SELF, &ru);
      printf("cpu %ld %ld\n", ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec, ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec);
      fflush(stdout);
      last = now;
      if (getppid() == 1) return 0; /* the bench is gone */
    }
  }
}
