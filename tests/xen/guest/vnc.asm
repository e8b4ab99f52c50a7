; hvmdm end-to-end VNC guest: an El Torito no-emulation boot program (up to
; 2048 bytes) assembled with nasm by tests/xen/lib/guest.sh, booted with
; vnc=1 and vga="stdvga". dom0's RFB client (tests/xen/dom0/rfb-client.c)
; takes its screens through the device model's VNC server and types into
; it. Each step is announced on COM1 (and port 0xE9):
;
;   VNC BANNER  what SeaBIOS and the VGA BIOS left on screen (cursor
;               hidden); waits for '1' on COM1 or 60 s
;   VNC TEXT    mode 3 through INT 10h, known text written to B800:0000
;               (no blink bit, cursor hidden); waits for '2' or 60 s
;   VNC KEYS    then "KEYS>", every character INT 16h returns (the PS/2
;               keyboard through SeaBIOS's IRQ 1 handler) echoed to COM1,
;               until Enter (either Enter key), which prints "<" and CR LF;
;               then the same after "XKEYS>" (the line typed with QEMU
;               extended key events); then "VNC DONE" and halts.

        cpu 386
        bits 16
        org 0x7c00

COM1            equ 0x3f8
DEBUG_PORT      equ 0xe9
BIOS_TICKS      equ 0x46c               ; 18.2 Hz, 0040:006C
STEP_TICKS      equ 1092                ; 60 s

start:
        jmp     0:entry
entry:
        cli
        xor     ax, ax
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     sp, 0x7c00
        sti
        cld
        call    uart_init
        call    cursor_off
        mov     si, msg_banner
        call    step

        mov     ax, 0x0003
        int     0x10
        call    cursor_off
        call    draw_text
        mov     si, msg_text
        call    step

        mov     si, msg_keys
        call    puts
        call    echo_keys
        mov     si, msg_xkeys
        call    puts
        call    echo_keys
        mov     si, msg_done
        call    puts
.halt:
        hlt
        jmp     .halt

; INT 10h AH=01h: cursor start line bit 5 hides it.
cursor_off:
        mov     ah, 0x01
        mov     cx, 0x2000
        int     0x10
        ret

; Announce the screen, then wait for dom0's digit or the timeout.
step:
        call    puts
        mov     ebx, [BIOS_TICKS]
.poll:
        mov     dx, COM1 + 5
        in      al, dx
        test    al, 1
        jz      .idle
        mov     dx, COM1
        in      al, dx
        cmp     al, [step_key]
        je      .got
        jmp     .poll
.idle:
        mov     eax, [BIOS_TICKS]
        sub     eax, ebx
        cmp     eax, STEP_TICKS
        jae     .timeout
        hlt
        jmp     .poll
.got:
        inc     byte [step_key]
        mov     si, msg_key
        jmp     puts
.timeout:
        inc     byte [step_key]
        mov     si, msg_timeout
        jmp     puts

; INT 16h AH=00h until Enter (AL = 13); each character to COM1.
echo_keys:
        xor     ah, ah
        int     0x16
        cmp     al, 13
        je      .enter
        mov     [key_buf], al
        mov     si, key_buf
        call    puts
        jmp     echo_keys
.enter:
        mov     si, msg_enter
        jmp     puts

; Row r (0..24), column c: character 0x20 + (r * 7 + c) % 0x5f, attribute
; 0x07 on rows 0..3 (the title below), else r % 15 + 1. The title goes on
; row 0.
draw_text:
        push    es
        mov     ax, 0xb800
        mov     es, ax
        xor     di, di
        xor     bx, bx                  ; r
.row:
        xor     cx, cx                  ; c
.col:
        mov     ax, bx
        mov     dx, 7
        mul     dx
        add     ax, cx
        xor     dx, dx
        push    bx
        mov     bx, 0x5f
        div     bx
        pop     bx
        mov     al, dl
        add     al, 0x20
        mov     [es:di], al
        mov     ax, bx
        xor     dx, dx
        push    bx
        mov     bx, 15
        div     bx
        pop     bx
        mov     al, dl
        inc     al
        cmp     bx, 4
        jae     .attr
        mov     al, 0x07
.attr:
        mov     [es:di + 1], al
        add     di, 2
        inc     cx
        cmp     cx, 80
        jb      .col
        inc     bx
        cmp     bx, 25
        jb      .row
        mov     si, title
        xor     di, di
.title:
        lodsb
        test    al, al
        jz      .done
        mov     [es:di], al
        mov     byte [es:di + 1], 0x1f
        add     di, 2
        jmp     .title
.done:
        pop     es
        ret

%include "com1.inc"

title           db " HVMDM VNC TEST: the text screen of a boot program ", 0
msg_banner      db "VNC BANNER", 13, 10, 0
msg_text        db "VNC TEXT", 13, 10, 0
msg_keys        db "VNC KEYS", 13, 10, "KEYS>", 0
msg_xkeys       db "XKEYS>", 0
msg_enter       db "<", 13, 10, 0
msg_done        db "VNC DONE", 13, 10, 0
msg_key         db "VNC KEY", 13, 10, 0
msg_timeout     db "VNC TIMEOUT", 13, 10, 0
step_key        db '1'                  ; the digit the current step takes
key_buf         db 0, 0

        times 2048 - ($ - $$) db 0
