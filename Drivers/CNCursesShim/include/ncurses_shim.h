#ifndef NCURSES_SHIM_H
#define NCURSES_SHIM_H
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <ncursesw/curses.h>

// getmaxyx/getyx are macros that assign to lvalues: not importable.
void ncs_getmaxyx(WINDOW *win, int *y, int *x);
// COLOR_PAIR(n) and A_* attributes are function-like macros over NCURSES_BITS.
int ncs_color_pair(int n);
unsigned int ncs_attr_bold(void);
unsigned int ncs_attr_reverse(void);
unsigned int ncs_attr_dim(void);
unsigned int ncs_attr_underline(void);
// printw/mvprintw are C variadics: format in Swift and pass the string.
int ncs_mvaddstr(int y, int x, const char *s);
// stdscr/LINES/COLS are mutable C globals: Swift 6 rejects direct references.
WINDOW *ncs_stdscr(void);
int ncs_lines(void);
int ncs_cols(void);
// KEY_F(n) is a macro.
int ncs_key_f(int n);
// Horizontal line of the terminal's line-drawing character (ACS_HLINE; '-' where it has none).
int ncs_hline(int y, int x, int n);
// Box around a rectangle with the terminal's line-drawing characters.
int ncs_box(int y, int x, int h, int w);

// SIGTERM/SIGHUP/SIGINT set a flag the event loop polls, so the till restores the terminal
// and exits cleanly instead of dying mid-draw.
void ncs_install_signal_flag(void);
int ncs_signal_received(void);
#endif
