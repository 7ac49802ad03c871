#include "ncurses_shim.h"
#include <signal.h>
#include <string.h>

void ncs_getmaxyx(WINDOW *win, int *y, int *x) { int yy, xx; getmaxyx(win, yy, xx); *y = yy; *x = xx; }
int ncs_color_pair(int n) { return (int)COLOR_PAIR(n); }
unsigned int ncs_attr_bold(void) { return (unsigned int)A_BOLD; }
unsigned int ncs_attr_reverse(void) { return (unsigned int)A_REVERSE; }
unsigned int ncs_attr_dim(void) { return (unsigned int)A_DIM; }
unsigned int ncs_attr_underline(void) { return (unsigned int)A_UNDERLINE; }
int ncs_mvaddstr(int y, int x, const char *s) { return mvaddstr(y, x, s); }
WINDOW *ncs_stdscr(void) { return stdscr; }
int ncs_lines(void) { return LINES; }
int ncs_cols(void) { return COLS; }
int ncs_key_f(int n) { return KEY_F(n); }
int ncs_hline(int y, int x, int n) { return mvhline(y, x, ACS_HLINE, n); }

int ncs_box(int y, int x, int h, int w) {
    if (h < 2 || w < 2) return ERR;
    mvaddch(y, x, ACS_ULCORNER);
    mvhline(y, x + 1, ACS_HLINE, w - 2);
    mvaddch(y, x + w - 1, ACS_URCORNER);
    for (int i = 1; i < h - 1; i++) {
        mvaddch(y + i, x, ACS_VLINE);
        mvhline(y + i, x + 1, ' ', w - 2);
        mvaddch(y + i, x + w - 1, ACS_VLINE);
    }
    mvaddch(y + h - 1, x, ACS_LLCORNER);
    mvhline(y + h - 1, x + 1, ACS_HLINE, w - 2);
    mvaddch(y + h - 1, x + w - 1, ACS_LRCORNER);
    return OK;
}

static volatile sig_atomic_t ncs_signal_flag = 0;
static void ncs_on_signal(int sig) { (void)sig; ncs_signal_flag = 1; }

void ncs_install_signal_flag(void) {
    // A parent may hand us a mask with these blocked (threads of test runners and some
    // supervisors block most signals): without SIGWINCH the screen would never follow a resize.
    sigset_t wanted;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGWINCH);
    sigaddset(&wanted, SIGTERM);
    sigaddset(&wanted, SIGHUP);
    sigaddset(&wanted, SIGINT);
    sigprocmask(SIG_UNBLOCK, &wanted, NULL);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ncs_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

int ncs_signal_received(void) { return ncs_signal_flag; }
