/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A target for uprobe tests: calls bpfd_test_target() N times (argv[1],
 * default 1) and prints the sum of its results. Built with -O0 so the
 * function keeps its symbol and every call really happens.
 */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) int bpfd_test_target(int x)
{
	asm volatile("" ::: "memory");
	return x + 1;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	long sum = 0;

	for (int i = 0; i < n; i++)
		sum += bpfd_test_target(i);

	printf("%ld\n", sum);
	return 0;
}
